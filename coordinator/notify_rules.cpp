#include "notify_rules.hpp"

#include <curl/curl.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

#include "labmesh/protocol/json.hpp"
#include "labmesh/protocol/types.hpp"
#include "text_util.hpp"

namespace labmesh::coordinator {
namespace {

bool ValidEmailAddress(std::string_view address) {
  if (address.empty() || address.size() > 254) return false;
  size_t at = address.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= address.size() ||
      address.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  return std::all_of(address.begin(), address.end(), [](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != '<' && c != '>' && c != ',' && c != '"' && c != '\\' &&
           c != '(' && c != ')' && c != ';' && c != ':';
  });
}

// The URL as libcurl's parser reads it back, when it is http(s) with a host.
Result<std::string> CanonicalWebhookUrl(std::string_view url) {
  std::string text(url);
  if (std::any_of(text.begin(), text.end(), [](char c) {
        unsigned char u = static_cast<unsigned char>(c);
        return u <= 0x20 || u == 0x7f;
      })) {
    return Status::InvalidArgument("webhook URL '" + text + "' holds spaces or control characters");
  }
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> handle(curl_url(), &curl_url_cleanup);
  if (!handle) return Status::Internal("curl_url: out of memory");
  if (curl_url_set(handle.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    return Status::InvalidArgument("webhook URL '" + text + "' is not a URL");
  }
  auto part = [&](CURLUPart which) -> std::string {
    char* value = nullptr;
    if (curl_url_get(handle.get(), which, &value, 0) != CURLUE_OK || value == nullptr) return "";
    std::string out(value);
    curl_free(value);
    return out;
  };
  std::string scheme = part(CURLUPART_SCHEME);
  if (scheme != "http" && scheme != "https") {
    return Status::InvalidArgument("webhook URL '" + text + "' must be http:// or https://");
  }
  if (part(CURLUPART_HOST).empty()) {
    return Status::InvalidArgument("webhook URL '" + text + "' has no host");
  }
  if (!part(CURLUPART_USER).empty()) {
    return Status::InvalidArgument("webhook URL '" + text +
                                   "' carries a user name: everyone who may read the job sees it");
  }
  std::string canonical = part(CURLUPART_URL);
  if (canonical.empty()) return Status::InvalidArgument("webhook URL '" + text + "' is not a URL");
  return canonical;
}

std::string Hex(const unsigned char* bytes, size_t size) {
  std::string out(size * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes, size);
  out.resize(size * 2);
  return out;
}

std::string HmacHex(std::string_view key, std::string_view message) {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  crypto_auth_hmacsha256_final(&state, mac);
  return Hex(mac, sizeof mac);
}

std::string CountsText(const nlohmann::json& counts) {
  std::string out;
  for (const auto& [status, n] : counts.items()) {
    if (!out.empty()) out += ", ";
    out += std::to_string(n.get<uint64_t>()) + " " + status;
  }
  return out;
}

// RFC 5322 date of a wall time in UTC.
std::string MailDate(int64_t wall_us) {
  std::time_t seconds = static_cast<std::time_t>(wall_us / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buffer;
}

// A header value on one line: CR, LF and other control characters become spaces.
std::string HeaderValue(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

}  // namespace

Result<std::string> CanonicalNotifyTarget(std::string_view text) {
  if (text.size() > kMaxNotifyTargetBytes) {
    return Status::InvalidArgument("notification target longer than " +
                                   std::to_string(kMaxNotifyTargetBytes) + " bytes");
  }
  std::string lower = Lower(text.substr(0, std::min<size_t>(text.size(), 8)));
  if (lower.starts_with("email:")) {
    std::string_view address = text.substr(6);
    if (!ValidEmailAddress(address)) {
      return Status::InvalidArgument("notification target '" + std::string(text) +
                                     "': not an email address (local@domain)");
    }
    return "email:" + std::string(address);
  }
  std::string_view url = text;
  if (lower.starts_with("webhook:")) {
    url = text.substr(8);
  } else if (!lower.starts_with("http://") && !lower.starts_with("https://")) {
    return Status::InvalidArgument("notification target '" + std::string(text) +
                                   "': want email:ADDRESS or webhook:URL");
  }
  auto canonical = CanonicalWebhookUrl(url);
  if (!canonical.ok()) return canonical.status();
  return "webhook:" + *canonical;
}

Result<std::vector<std::string>> CanonicalNotifyTargets(const std::vector<std::string>& targets) {
  std::vector<std::string> out;
  for (const std::string& target : targets) {
    auto canonical = CanonicalNotifyTarget(target);
    if (!canonical.ok()) return canonical.status();
    if (std::find(out.begin(), out.end(), *canonical) == out.end()) out.push_back(*canonical);
  }
  if (out.size() > kMaxNotifyTargets) {
    return Status::InvalidArgument("at most " + std::to_string(kMaxNotifyTargets) +
                                   " notification targets");
  }
  return out;
}

Result<std::string> ParseNotifyOn(std::string_view text) {
  std::string lower = Lower(text);
  if (lower.empty() || lower == "always" || lower == "failure") return lower;
  return Status::InvalidArgument("--notify-on '" + std::string(text) + "': want always or failure");
}

bool ShouldNotify(std::string_view notify_on, std::string_view job_status) {
  if (notify_on == "failure") return job_status != "Completed";
  return true;
}

std::string JobEndDocument(const store::Job& job, const std::vector<store::Entry>& entries,
                           const std::string& status, const std::string& link) {
  nlohmann::json list = nlohmann::json::array();
  std::map<std::string, uint64_t> totals;
  for (const store::Entry& entry : entries) {
    nlohmann::json counts = nlohmann::json::object();
    for (const auto& [result, n] : entry.result_counts) {
      counts[result] = n;
      totals[result] += n;
    }
    list.push_back({{"host", entry.hostname.empty() ? "(any " + entry.meta_label + ")"
                                                    : entry.hostname},
                    {"status", std::string(protocol::EntryStatusName(entry.status))},
                    {"reason", entry.status_reason},
                    {"fault", entry.fault},
                    {"result_counts", std::move(counts)}});
  }
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [result, n] : totals) counts[result] = n;
  nlohmann::json document = {
      {"event", "job.finished"},
      {"job", job.id},
      {"name", job.name},
      {"owner", job.owner},
      {"status", status},
      {"abort_reason", job.abort_reason},
      {"created", protocol::WallTimeUsJson(job.created_us)},
      {"finished", protocol::WallTimeUsJson(job.finished_us)},
      {"link", link},
      {"counts", std::move(counts)},
      {"entries", std::move(list)},
  };
  return document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string HostReservedDocument(const store::Job& job, const store::Entry& entry,
                                 const store::Host& host, const std::string& link) {
  nlohmann::json document = {
      {"event", "host.reserved"},
      {"job", job.id},
      {"name", job.name},
      {"owner", job.owner},
      {"host", host.hostname},
      {"reserved_by", host.reserved_by},
      {"reserved_until", protocol::FormatWallTimeIso(host.reserved_until_ms)},
      {"reason", host.reserve_reason},
      {"entry",
       {{"status", std::string(protocol::EntryStatusName(entry.status))},
        {"reason", entry.status_reason},
        {"fault", entry.fault}}},
      {"link", link},
  };
  return document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

Result<EmailText> HostReservedEmail(const nlohmann::json& doc) {
  EmailText text;
  std::string job = std::to_string(doc.at("job").get<uint64_t>());
  std::string host = doc.at("host").get<std::string>();
  std::string by = doc.at("reserved_by").get<std::string>();
  std::string until = doc.at("reserved_until").get<std::string>();
  text.subject = HeaderValue("[labmesh] host " + host + " reserved for " + by + ": job " + job +
                             " failed there");
  const nlohmann::json& entry = doc.at("entry");
  std::string reason = entry.value("reason", "");
  std::string fault = entry.value("fault", "");
  std::string body = "Job " + job + " (" + doc.at("name").get<std::string>() + ") of " +
                     doc.at("owner").get<std::string>() + " failed on " + host;
  if (!reason.empty()) body += " (" + (fault.empty() ? "" : fault + ": ") + reason + ")";
  body += ".\n\nThe host is reserved for " + by + " until " + until +
          ": only their jobs run there. End it with `labmesh host release " + host + "`.\n";
  std::string link = doc.value("link", "");
  if (!link.empty()) body += "\n" + link + "\n";
  text.body = std::move(body);
  return text;
}

}  // namespace

Result<EmailText> EmailFromDocument(const std::string& document) {
  nlohmann::json doc = nlohmann::json::parse(document, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::Corruption("notification document is not a JSON object");
  }
  try {
    if (doc.value("event", "") == "host.reserved") return HostReservedEmail(doc);
    EmailText text;
    std::string job = std::to_string(doc.at("job").get<uint64_t>());
    std::string status = doc.at("status").get<std::string>();
    std::string name = doc.at("name").get<std::string>();
    text.subject = HeaderValue("[labmesh] job " + job + " " + status + ": " + name);
    std::string body;
    body += "Job " + job + " (" + name + ") of " + doc.at("owner").get<std::string>() +
            " ended " + status;
    std::string abort_reason = doc.value("abort_reason", "");
    if (!abort_reason.empty()) body += " (" + abort_reason + ")";
    body += ".\n\n";
    if (doc.at("finished").is_string()) body += "Finished: " + doc.at("finished").get<std::string>() + "\n";
    std::string counts = CountsText(doc.at("counts"));
    body += "Results:  " + (counts.empty() ? std::string("none parsed") : counts) + "\n\n";
    body += "Hosts:\n";
    for (const auto& entry : doc.at("entries")) {
      body += "  " + entry.at("host").get<std::string>() + ": " +
              entry.at("status").get<std::string>();
      std::string reason = entry.value("reason", "");
      std::string fault = entry.value("fault", "");
      if (!reason.empty()) body += " - " + (fault.empty() ? "" : fault + ": ") + reason;
      std::string entry_counts = CountsText(entry.at("result_counts"));
      if (!entry_counts.empty()) body += " [" + entry_counts + "]";
      body += "\n";
    }
    std::string link = doc.value("link", "");
    if (!link.empty()) body += "\n" + link + "\n";
    text.body = std::move(body);
    return text;
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("notification document: ") + e.what());
  }
}

std::string EmailMessage(const EmailText& text, const std::string& from, const std::string& to,
                         int64_t date_us, const std::string& message_id) {
  std::string body;
  for (char c : text.body) {
    if (c == '\n') {
      body += "\r\n";
    } else {
      body += c;
    }
  }
  return "Date: " + MailDate(date_us) + "\r\n" + "From: " + HeaderValue(from) + "\r\n" +
         "To: " + HeaderValue(to) + "\r\n" + "Subject: " + text.subject + "\r\n" +
         "Message-ID: <" + HeaderValue(message_id) + ">\r\n" +
         "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: 8bit\r\n\r\n" +
         body;
}

std::string TargetSecret(std::string_view notify_key, std::string_view owner,
                         std::string_view target) {
  std::string message(owner);
  message += '\n';
  message += target;
  return HmacHex(notify_key, message);
}

std::string SignBody(std::string_view secret, std::string_view body) {
  return "sha256=" + HmacHex(secret, body);
}

int64_t RetryDelayMs(uint32_t attempts, double jitter01) {
  constexpr int64_t kFirstMs = 1'000, kCapMs = 300'000;
  int64_t delay = kFirstMs;
  for (uint32_t i = 1; i < attempts && delay < kCapMs; ++i) delay *= 2;
  delay = std::min(delay, kCapMs);
  jitter01 = std::clamp(jitter01, 0.0, 1.0);
  return delay + static_cast<int64_t>(static_cast<double>(delay) * 0.25 * jitter01);
}

std::string_view NotifyStateName(store::NotifyState state) {
  switch (state) {
    case store::NotifyState::kPending: return "pending";
    case store::NotifyState::kDelivered: return "delivered";
    case store::NotifyState::kFailed: return "failed";
  }
  return "unknown";
}

protocol::NotificationInfo ToNotificationInfo(const store::Notification& n) {
  protocol::NotificationInfo info;
  info.target = n.target;
  info.state = std::string(NotifyStateName(n.state));
  info.attempts = n.attempts;
  info.last_error = n.last_error;
  info.created_us = n.created_us;
  info.last_attempt_us = n.last_attempt_us;
  info.delivered_us = n.delivered_us;
  info.event = std::string(NotifyEventName(n));
  info.host = n.hostname;
  return info;
}

std::string_view NotifyEventName(const store::Notification& n) {
  return n.event.empty() ? std::string_view("job.finished") : std::string_view(n.event);
}

}  // namespace labmesh::coordinator
