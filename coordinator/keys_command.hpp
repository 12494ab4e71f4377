#pragma once
// `labmesh-coordinator keys export FILE` and `keys import FILE` (docs/scale-out.md): the
// coordinators of one lab present one CurveZMQ identity, so that one --coordinator-key fits
// them all and a standby's relay link is accepted by the active coordinator. Export writes the
// pair of DATA_DIR/keys/coordinator.{pub,key} into FILE; import installs FILE's pair there.
//
// FILE is text: a comment line, then `public_key=Z85` and `secret_key=Z85`. It holds a secret:
// export creates it 0600 and never overwrites a file.

#include <string>

#include "labmesh/common/status.hpp"

namespace labmesh::coordinator {

Status ExportCoordinatorKeys(const std::string& data_dir, const std::string& file);

// A data directory that already holds another pair is refused unless `replace` (its agents and
// clients trust the old public key); the same pair again is OK and changes nothing. A file
// whose secret is not the public key's is refused.
Status ImportCoordinatorKeys(const std::string& data_dir, const std::string& file, bool replace);

}  // namespace labmesh::coordinator
