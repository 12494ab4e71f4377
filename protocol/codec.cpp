// The typed encode and decode of every message (declared in envelope.hpp), compiled once here so
// that no caller compiles MessagePack templates, and DescribeBody for the audit log.

#include <algorithm>
#include <cctype>
#include <exception>
#include <sstream>

#include "labmesh/protocol/envelope.hpp"
#include "protocol_codec.hpp"

namespace labmesh::protocol {
namespace {

std::string PackEnvelope(MessageType type, uint64_t request_id, const msgpack::sbuffer& body,
                         const Credentials* credentials) {
  msgpack::sbuffer out(body.size() + 16);
  msgpack::packer<msgpack::sbuffer> packer(out);
  packer.pack_array(credentials != nullptr ? 5 : 4);
  packer.pack(kProtocolVersion);
  packer.pack(static_cast<uint32_t>(type));
  packer.pack(request_id);
  out.write(body.data(), body.size());
  if (credentials != nullptr) packer.pack(*credentials);
  return std::string(out.data(), out.size());
}

// How many of a refused body's keys are tried one by one to name the culprit (below).
constexpr uint32_t kMaxDiagnosedKeys = 256;

// A key as it may appear in an error text: at most 64 bytes, printable ASCII only.
std::string PrintableKey(const msgpack::object& key) {
  std::string_view raw(key.via.str.ptr, std::min<uint32_t>(key.via.str.size, 64));
  std::string out;
  for (char c : raw) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return key.via.str.size > 64 ? out + "..." : out;
}

// Why msgpack-c refused to convert `body` (a map) into an M, in the words of PROTOCOL.md §3
// rather than its exception's (msgpack::type_error says only "std::bad_cast"): each pair is
// converted alone, and the first that fails is named. Only runs for a refused message.
template <typename M>
Status ConvertError(const msgpack::object& body) {
  std::string prefix = "malformed " + std::string(MessageTypeName(M::kType)) + " body: ";
  uint32_t pairs = std::min(body.via.map.size, kMaxDiagnosedKeys);
  for (uint32_t i = 0; i < pairs; ++i) {
    msgpack::object_kv& kv = body.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) {
      return Status::InvalidArgument(prefix + "a key that is not a string");
    }
    msgpack::object single;
    single.type = msgpack::type::MAP;
    single.via.map.size = 1;
    single.via.map.ptr = &kv;
    try {
      M message;
      single.convert(message);
    } catch (const std::exception&) {
      return Status::InvalidArgument(prefix + "field '" + PrintableKey(kv.key) +
                                     "' holds a value of the wrong type or out of range");
    }
  }
  return Status::InvalidArgument(prefix + "a value of the wrong type or out of range");
}

bool IsSecretFieldName(std::string_view key) {
  std::string lower(key);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("password") != std::string::npos || lower.find("token") != std::string::npos ||
         lower.find("secret") != std::string::npos;
}

}  // namespace

const msgpack::object& BodyObject(const Envelope& envelope) {
  static const msgpack::object kNil;
  const MessageBody::Impl* impl = envelope.body.impl();
  return impl != nullptr ? impl->handle.get() : kNil;
}

MessageBody MakeBody(const msgpack::object& object, msgpack::unique_ptr<msgpack::zone> zone) {
  auto impl = std::make_shared<MessageBody::Impl>();
  impl->handle = msgpack::object_handle(object, std::move(zone));
  return MessageBody(std::move(impl));
}

template <typename M>
std::string Encode(const M& message, uint64_t request_id) {
  msgpack::sbuffer body;
  msgpack::pack(body, message);
  return PackEnvelope(M::kType, request_id, body, nullptr);
}

template <typename M>
std::string Encode(const M& message, uint64_t request_id, const Credentials& credentials) {
  msgpack::sbuffer body;
  msgpack::pack(body, message);
  return PackEnvelope(M::kType, request_id, body, credentials.empty() ? nullptr : &credentials);
}

template <typename M>
Result<M> DecodeBody(const Envelope& envelope) {
  if (envelope.type != M::kType) {
    return Status::InvalidArgument("expected message type " +
                                   std::to_string(static_cast<int>(M::kType)) + ", got " +
                                   std::to_string(static_cast<int>(envelope.type)));
  }
  const msgpack::object& body = BodyObject(envelope);
  if (body.type != msgpack::type::MAP) {
    return Status::InvalidArgument("message body is not a map");
  }
  try {
    M message;
    body.convert(message);
    return message;
  } catch (const std::exception&) {
    return ConvertError<M>(body);
  }
}

template <typename M>
Result<M> DecodeAs(std::string_view frame, const DecodeLimits& limits) {
  auto envelope = DecodeEnvelope(frame, limits);
  if (!envelope.ok()) return envelope.status();
  if (envelope->type == MessageType::kError && M::kType != MessageType::kError) {
    auto error = DecodeBody<ErrorReply>(*envelope);
    if (!error.ok()) return error.status();
    return error->ToStatus();
  }
  return DecodeBody<M>(*envelope);
}

// Every message type, each instantiated once. tests/protocol/sample_messages.hpp lists the same
// types and checks that they cover every MessageType; a type left out here fails to link.
#define LABMESH_PROTOCOL_MESSAGES(X) \
  X(ErrorReply) \
  X(OkReply) \
  X(AgentHello) \
  X(Welcome) \
  X(PendingApproval) \
  X(Reject) \
  X(Heartbeat) \
  X(HeartbeatAck) \
  X(Reregister) \
  X(HostListRequest) \
  X(HostListReply) \
  X(HostShowRequest) \
  X(HostShowReply) \
  X(HostPendingRequest) \
  X(HostActionRequest) \
  X(HostLabelRequest) \
  X(LabelListRequest) \
  X(LabelListReply) \
  X(LabelActionRequest) \
  X(TestAddRequest) \
  X(TestListRequest) \
  X(TestListReply) \
  X(TestShowRequest) \
  X(TestShowReply) \
  X(WorkRequest) \
  X(StartEntry) \
  X(EntryReport) \
  X(EntryReportAck) \
  X(ResultChunk) \
  X(ResultAck) \
  X(AbortEntry) \
  X(SyncRequest) \
  X(SyncReply) \
  X(RunTask) \
  X(TaskReport) \
  X(HostTaskRequest) \
  X(HostTaskReply) \
  X(HostHistoryRequest) \
  X(HostHistoryReply) \
  X(HostModRequest) \
  X(HostAvailRequest) \
  X(HostAvailReply) \
  X(JobCreateRequest) \
  X(JobCreateReply) \
  X(JobListRequest) \
  X(JobListReply) \
  X(JobShowRequest) \
  X(JobShowReply) \
  X(JobAbortRequest) \
  X(JobLogRequest) \
  X(JobLogReply) \
  X(TemplateSaveRequest) \
  X(TemplateListRequest) \
  X(TemplateListReply) \
  X(TemplateShowRequest) \
  X(TemplateShowReply) \
  X(TemplateDeleteRequest) \
  X(ScheduleCreateRequest) \
  X(ScheduleListRequest) \
  X(ScheduleListReply) \
  X(ScheduleShowRequest) \
  X(ScheduleShowReply) \
  X(ScheduleActionRequest) \
  X(ResultsListRequest) \
  X(ResultsListReply) \
  X(ResultsSummaryRequest) \
  X(ResultsSummaryReply) \
  X(ResultsSeriesRequest) \
  X(ResultsSeriesReply) \
  X(ResultsReparseRequest) \
  X(ResultsReparseReply) \
  X(ResultsUsageRequest) \
  X(ResultsUsageReply) \
  X(ResultsImportRequest) \
  X(ResultsImportReply) \
  X(ResultsImportChunkRequest) \
  X(ResultsImportChunkReply) \
  X(ResultsImportDoneRequest) \
  X(JobDeleteRequest) \
  X(JobDeleteReply) \
  X(UserListRequest) \
  X(UserListReply) \
  X(UserCreateRequest) \
  X(UserTokenReply) \
  X(UserDeleteRequest) \
  X(UserTokenRequest) \
  X(UserPasswdRequest) \
  X(UserModRequest) \
  X(NotifySecretRequest) \
  X(NotifySecretReply) \
  X(HostReserveRequest) \
  X(HostReleaseRequest) \
  X(HostFlakyRequest) \
  X(HostFlakyReply) \
  X(HostQuarantineRequest) \
  X(HostPowerConfigRequest) \
  X(HostPowerShowRequest) \
  X(HostPowerShowReply) \
  X(HostPowerRequest) \
  X(HostPowerReply) \
  X(HostConsoleRequest) \
  X(HostConsoleReply) \
  X(AclListRequest) \
  X(AclListReply) \
  X(AclCreateRequest) \
  X(AclDeleteRequest) \
  X(AclMemberRequest) \
  X(AuditListRequest) \
  X(AuditListReply) \
  X(LoginRequest) \
  X(LoginReply) \
  X(WhoAmIRequest) \
  X(WhoAmIReply) \
  X(LogoutRequest) \
  X(PackageChunkRequest) \
  X(PackageChunk) \
  X(PackageChunksRequest) \
  X(PackageChunks) \
  X(PeerBadReport) \
  X(PeerChunkRequest) \
  X(PeerChunk) \
  X(PackageUploadRequest) \
  X(PackageUploadReply) \
  X(PackageListRequest) \
  X(PackageListReply) \
  X(PackageDesireRequest) \
  X(MetricsRequest) \
  X(MetricsReply)

#define LABMESH_INSTANTIATE_CODEC_(M)                                                   \
  template std::string Encode<M>(const M&, uint64_t);                                   \
  template std::string Encode<M>(const M&, uint64_t, const Credentials&);               \
  template Result<M> DecodeBody<M>(const Envelope&);                                    \
  template Result<M> DecodeAs<M>(std::string_view, const DecodeLimits&);
LABMESH_PROTOCOL_MESSAGES(LABMESH_INSTANTIATE_CODEC_)
#undef LABMESH_INSTANTIATE_CODEC_

std::string DescribeBody(const Envelope& envelope, size_t max_bytes) {
  const msgpack::object& body = BodyObject(envelope);
  std::ostringstream out;
  if (body.type != msgpack::type::MAP) {
    out << body;
  } else {
    out << '{';
    for (uint32_t i = 0; i < body.via.map.size; ++i) {
      const msgpack::object_kv& kv = body.via.map.ptr[i];
      if (i > 0) out << ',';
      out << kv.key << ':';
      bool secret = kv.key.type == msgpack::type::STR &&
                    IsSecretFieldName(std::string_view(kv.key.via.str.ptr, kv.key.via.str.size));
      if (secret) {
        out << "\"***\"";
      } else if (kv.val.type == msgpack::type::BIN) {
        // Bytes (a package chunk: up to 1 MiB) say nothing to a reader; their size does.
        out << "\"<" << kv.val.via.bin.size << " bytes>\"";
      } else {
        out << kv.val;
      }
      if (static_cast<size_t>(out.tellp()) > max_bytes) break;
    }
    out << '}';
  }
  std::string text = out.str();
  if (text.size() > max_bytes) {
    text.resize(max_bytes - 3);
    text += "...";
  }
  return text;
}

}  // namespace labmesh::protocol
