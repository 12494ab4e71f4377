#include "labmesh/common/logging.hpp"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <exception>
#include <nlohmann/json.hpp>

namespace labmesh {
namespace {

// "2026-01-02T03:04:05.678Z".
std::string UtcTime(spdlog::log_clock::time_point time) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  auto since_epoch = duration_cast<milliseconds>(time.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(since_epoch / 1000);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[40];
  size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(since_epoch % 1000));
  return text;
}

class JsonFormatter final : public spdlog::formatter {
 public:
  explicit JsonFormatter(std::string component) : component_(std::move(component)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::json line = {
        {"time", UtcTime(msg.time)},
        {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                              spdlog::level::to_string_view(msg.level).size())},
        {"daemon", component_},
        {"logger", std::string(msg.logger_name.data(), msg.logger_name.size())},
        {"pid", static_cast<int64_t>(::getpid())},
        {"message", std::string(msg.payload.data(), msg.payload.size())},
    };
    // replace, not throw: a message may quote bytes an agent or a client sent.
    std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    text += '\n';
    dest.append(text.data(), text.data() + text.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>(component_);
  }

 private:
  std::string component_;
};

}  // namespace

std::unique_ptr<spdlog::formatter> MakeJsonLogFormatter(const std::string& component) {
  return std::make_unique<JsonFormatter>(component);
}

Status SetupLogging(const std::string& component, const LogOptions& options) {
  auto parsed = spdlog::level::from_str(options.level);
  if (parsed == spdlog::level::off && options.level != "off") {
    return Status::InvalidArgument("unknown log level '" + options.level +
                                   "' (trace, debug, info, warn, error, critical, off)");
  }
  if (options.format != "text" && options.format != "json") {
    return Status::InvalidArgument("unknown log format '" + options.format + "' (text, json)");
  }
  if (options.max_file_bytes == 0 || options.max_files == 0) {
    return Status::InvalidArgument("--log-max-size and --log-max-files must be more than 0");
  }
  spdlog::sink_ptr sink;
  if (options.file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    try {
      sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          options.file, static_cast<size_t>(options.max_file_bytes), options.max_files);
    } catch (const std::exception& e) {  // spdlog throws spdlog_ex when it cannot open the file
      return Status::Unavailable("cannot log to " + options.file + ": " + e.what());
    }
  }
  auto logger = std::make_shared<spdlog::logger>(component, sink);
  if (options.format == "json") {
    logger->set_formatter(MakeJsonLogFormatter(component));
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  }
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return Status::Ok();
}

}  // namespace labmesh
