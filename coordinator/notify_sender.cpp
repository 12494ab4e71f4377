#include "notify_sender.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "labmesh/common/duration.hpp"
#include "notify_rules.hpp"

namespace labmesh::coordinator {
namespace {

using CurlHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using CurlList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

// libcurl reads the email message from here.
struct MailSource {
  std::string_view text;
  size_t offset = 0;
};

size_t ReadMail(char* buffer, size_t size, size_t count, void* user) {
  auto* source = static_cast<MailSource*>(user);
  size_t n = std::min(size * count, source->text.size() - source->offset);
  std::copy_n(source->text.data() + source->offset, n, buffer);
  source->offset += n;
  return n;
}

size_t DiscardBody(char*, size_t size, size_t count, void*) { return size * count; }

std::string MachineName() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

std::string CurlError(CURLcode code, const char* detail) {
  std::string text = detail != nullptr && detail[0] != '\0' ? detail : curl_easy_strerror(code);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

Result<std::string> LoadOrCreateNotifyKey(const std::string& keys_dir) {
  const std::string path = keys_dir + "/notify.key";
  std::ifstream in(path);
  if (in) {
    std::string key;
    std::getline(in, key);
    if (key.size() != 64 || key.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return Status::Corruption(path + ": not 64 hex digits");
    }
    return key;
  }
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("create " + path + ": " + std::strerror(errno));
  std::string line = std::string(hex) + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Status::Internal("write " + path + ": " + std::strerror(errno));
  return std::string(hex);
}

NotifySender::NotifySender(const CoordinatorConfig& config, std::string notify_key,
                           store::Store* store, const Clock* clock)
    : config_(config),
      notify_key_(std::move(notify_key)),
      store_(store),
      clock_(clock),
      from_(config.notify_from.empty() ? "labmesh@" + MachineName() : config.notify_from),
      random_(std::random_device{}()) {}

NotifySender::~NotifySender() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

Status NotifySender::Start() {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    return Status::Internal("curl_global_init failed");
  }
  auto pending = store_->ListPendingNotifications();
  if (!pending.ok()) return pending.status();
  if (!pending->empty()) {
    spdlog::info("notifications: {} pending from before the start", pending->size());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_ = std::move(*pending);
  }
  worker_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void NotifySender::Submit(store::Notification notification) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(notification));
  }
  wake_.notify_one();
}

void NotifySender::Run() {
  for (;;) {
    store::Notification next;
    {
      std::unique_lock<std::mutex> lock(mu_);
      for (;;) {
        if (stopping_) return;
        if (!queue_.empty()) {
          auto due = std::min_element(queue_.begin(), queue_.end(), [](const auto& a, const auto& b) {
            return a.next_attempt_us < b.next_attempt_us;
          });
          int64_t wait_us = due->next_attempt_us - clock_->WallUs();
          if (wait_us <= 0) {
            next = std::move(*due);
            queue_.erase(due);
            break;
          }
          wake_.wait_for(lock, std::chrono::microseconds(std::min<int64_t>(wait_us, 1'000'000)));
        } else {
          wake_.wait(lock);
        }
      }
    }
    Attempt(next);
    if (next.state == store::NotifyState::kPending) {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(next));
    }
  }
}

void NotifySender::Attempt(store::Notification& n) {
  const bool webhook = n.target.starts_with("webhook:");
  Status sent = webhook ? PostWebhook(n) : SendEmail(n);
  int64_t now = clock_->WallUs();
  ++n.attempts;
  n.last_attempt_us = now;
  if (sent.ok()) {
    n.state = store::NotifyState::kDelivered;
    n.delivered_us = now;
    spdlog::info("notification job={} {} delivered (attempt {})", n.job_id, n.target, n.attempts);
  } else {
    n.last_error = sent.message();
    std::uniform_real_distribution<double> jitter(0.0, 1.0);
    int64_t next = now + RetryDelayMs(n.attempts, jitter(random_)) * 1000;
    bool permanent = sent.code() == StatusCode::kInvalidArgument;
    if (permanent || next > n.created_us + config_.notify_retry_for_ms * 1000) {
      n.state = store::NotifyState::kFailed;
      if (!permanent) {
        n.last_error = "gave up after " + std::to_string(n.attempts) + " attempts in " +
                       FormatDurationMs((now - n.created_us) / 1000) + ": " + n.last_error;
      }
      spdlog::warn("notification job={} {} failed: {}", n.job_id, n.target, n.last_error);
    } else {
      n.next_attempt_us = next;
      spdlog::info("notification job={} {} attempt {} failed: {}; next in {}", n.job_id, n.target,
                   n.attempts, n.last_error, FormatDurationMs((next - now) / 1000));
    }
  }
  store::WriteBatch batch;
  batch.PutNotification(n);
  if (Status s = store_->Apply(batch); !s.ok()) {
    // Kept in memory as it is: the next attempt (or the next start, for a pending one) writes it.
    spdlog::error("notification job={} {}: state not stored: {}", n.job_id, n.target,
                  s.ToString());
  }
}

Status NotifySender::PostWebhook(const store::Notification& n) const {
  CurlHandle curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return Status::Internal("curl_easy_init failed");
  const std::string url = n.target.substr(std::string_view("webhook:").size());
  const std::string secret = TargetSecret(notify_key_, n.owner, n.target);
  const std::string delivery = std::to_string(n.job_id) + "." + std::to_string(n.index);
  curl_slist* raw = nullptr;
  for (const std::string& header :
       {std::string("Content-Type: application/json"),
        "X-Labmesh-Event: " + std::string(NotifyEventName(n)),
        "X-Labmesh-Delivery: " + delivery,
        "X-Labmesh-Signature: " + SignBody(secret, n.document)}) {
    curl_slist* appended = curl_slist_append(raw, header.c_str());
    if (appended == nullptr) {
      curl_slist_free_all(raw);
      return Status::Internal("curl_slist_append failed");
    }
    raw = appended;
  }
  CurlList headers(raw, &curl_slist_free_all);
  char error[CURL_ERROR_SIZE] = {};
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, n.document.c_str());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(n.document.size()));
  curl_easy_setopt(h, CURLOPT_USERAGENT, "labmesh/" LABMESH_VERSION);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.notify_attempt_timeout_ms));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<int64_t>(config_.notify_attempt_timeout_ms, 5'000)));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &DiscardBody);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  CURLcode code = curl_easy_perform(h);
  if (code != CURLE_OK) return Status::Unavailable(CurlError(code, error));
  long http = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
  if (http >= 200 && http < 300) return Status::Ok();
  std::string text = "HTTP " + std::to_string(http);
  // A 4xx other than a timeout or a rate limit says the request itself is refused: sending it
  // again cannot help.
  if (http >= 400 && http < 500 && http != 408 && http != 429) {
    return Status::InvalidArgument(text + " (refused; not tried again)");
  }
  return Status::Unavailable(text);
}

Status NotifySender::SendEmail(const store::Notification& n) const {
  auto text = EmailFromDocument(n.document);
  if (!text.ok()) return Status::InvalidArgument(text.status().message());
  const std::string to = n.target.substr(std::string_view("email:").size());
  const std::string message_id = "labmesh-" + std::to_string(n.job_id) + "." +
                                 std::to_string(n.index) + "@" +
                                 from_.substr(from_.find('@') + 1);
  MailSource source{};
  const std::string mail = EmailMessage(*text, from_, to, clock_->WallUs(), message_id);
  source.text = mail;
  CurlHandle curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return Status::Internal("curl_easy_init failed");
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + to + ">").c_str());
  if (rcpt == nullptr) return Status::Internal("curl_slist_append failed");
  CurlList recipients(rcpt, &curl_slist_free_all);
  const std::string url = "smtp://" + config_.smtp_server;
  const std::string mail_from = "<" + from_ + ">";
  char error[CURL_ERROR_SIZE] = {};
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, recipients.get());
  curl_easy_setopt(h, CURLOPT_READFUNCTION, &ReadMail);
  curl_easy_setopt(h, CURLOPT_READDATA, &source);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.notify_attempt_timeout_ms));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<int64_t>(config_.notify_attempt_timeout_ms, 5'000)));
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  CURLcode code = curl_easy_perform(h);
  if (code != CURLE_OK) return Status::Unavailable("smtp " + config_.smtp_server + ": " + CurlError(code, error));
  return Status::Ok();
}

}  // namespace labmesh::coordinator
