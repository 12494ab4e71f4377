#pragma once
// NotifyService: the event loop's side of job-end notifications (docs/notifications.md). When a
// job's last entry becomes final (JobService's job-end hook) it stages one `pending` outbox row
// per target into the turn's batch - the same transaction that commits the job's final state -
// and hands the rows to the NotifySender after that commit. It also answers `notify secret`
// (the signing secret of a webhook target for the asking user).
//
// Owned and called only by the event-loop thread.

#include <string>
#include <vector>

#include "batch.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/coordinator/config.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/store/store.hpp"
#include "principal.hpp"

namespace labmesh::coordinator {

class NotifySender;

class NotifyService {
 public:
  NotifyService(const CoordinatorConfig& config, const Clock* clock, Batch* batch,
                NotifySender* sender);

  void OnJobEnd(const store::Job& job, const std::vector<store::Entry>& entries);
  // --reserve-on-failure reserved `host` to the job's owner after `entry` failed there: one
  // `pending` host.reserved row per target of the job, with outbox indices first_index.., in
  // the same batch (none when the job has no targets, or the indices would pass
  // kNotifyIndexLimit: logged). Returns how many rows it staged.
  uint32_t OnHostReserved(const store::Job& job, const store::Entry& entry,
                          const store::Host& host, uint32_t first_index);
  // NotifySecretRequest: answered at once.
  std::string Secret(const protocol::Envelope& e, const Principal& who) const;

  // The job's page: public_url (or http://<http_listen>) + "/#/jobs/ID"; "" without a web page.
  std::string LinkTo(uint64_t job_id) const;

 private:
  // Stages one pending outbox row per job target (indices from `first_index`) with `document`,
  // handed to the sender after the commit; returns how many.
  size_t Queue(const store::Job& job, uint32_t first_index, const char* event,
               const std::string& hostname, const std::string& document);

  const CoordinatorConfig& config_;
  const Clock* clock_;
  Batch* batch_;
  NotifySender* sender_;
};

}  // namespace labmesh::coordinator
