#include "labmesh/cli/power_commands.hpp"

#include <chrono>
#include <iostream>
#include <thread>

#include "labmesh/cli/power_logic.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/protocol/json.hpp"

namespace labmesh::cli {
namespace {

constexpr auto kConsolePollInterval = std::chrono::milliseconds(200);
// A power command may run for the coordinator's --power-timeout (default 1m): its answer is
// awaited this long at least, once a quick request showed the coordinator is there.
constexpr int64_t kPowerReplyMs = 15 * 60'000;

}  // namespace

PowerCommands::PowerCommands(CLI::App& app, const Globals& g, Action& action) : g_(g) {
  CLI::App* host = app.get_subcommand("host");
  auto* config = host->add_subcommand(
      "power-config",
      "set (admins) or show a host's power method, serial console and their attributes; "
      "commands name the host's fields and attributes as {name}, {address}, {bmc}, ...");
  config->add_option("name", hostname_, "hostname")->required();
  config->add_option("--on", on_, "command that switches the host on");
  config->add_option("--off", off_, "command that switches the host off");
  config->add_option("--cycle", cycle_,
                     "command that power cycles the host (what repair of a lost host runs)");
  config->add_option("--status", status_, "command that says the host's power state");
  config->add_option("--console", console_,
                     "command whose output is the host's serial console (read while configured)");
  config->add_option("--panic-pattern", patterns_,
                     "regular expression that marks a console line as a crash (repeat; replaces "
                     "the defaults)")
      ->allow_extra_args(false);
  config->add_option("--attr", attrs_, "KEY=VALUE attribute the commands may name (repeat)")
      ->allow_extra_args(false);
  config->add_option("--secret", secrets_,
                     "KEY=VALUE secret attribute: passed to the commands in their environment, "
                     "never shown back (repeat)")
      ->allow_extra_args(false);
  config->add_option("--unset", unset_,
                     "remove: on, off, cycle, status, console, panic-patterns or an attribute "
                     "(repeat)")
      ->allow_extra_args(false);
  config->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Config(api); }; });

  auto* power = host->add_subcommand(
      "power", "switch a host on or off, power cycle it, or ask its power state (admins and "
               "its reservation holder); prints the command's output");
  power->add_option("name", hostname_, "hostname")->required();
  power->add_option("action", action_, "on, off, cycle or status")
      ->required()
      ->check(CLI::IsMember({"on", "off", "cycle", "status"}));
  power->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Power(api); }; });

  auto* console = host->add_subcommand("console", "the host's serial console log");
  console->add_option("name", hostname_, "hostname")->required();
  console->add_flag("--follow,-f", follow_, "keep printing as the console writes");
  console->add_option("--bytes", bytes_, "print the last this many bytes first (default 64 KiB)");
  console->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Console(api); }; });
}

int PowerCommands::Config(client::ApiClient& api) {
  auto attrs = ParseAssignments(attrs_, "--attr");
  if (!attrs.ok()) return UsageError("host power-config: " + attrs.status().message());
  auto secrets = ParseAssignments(secrets_, "--secret");
  if (!secrets.ok()) return UsageError("host power-config: " + secrets.status().message());
  const bool changes = !on_.empty() || !off_.empty() || !cycle_.empty() || !status_.empty() ||
                       !console_.empty() || !patterns_.empty() || !attrs->empty() ||
                       !secrets->empty() || !unset_.empty();
  Result<protocol::HostPowerShowReply> reply = Status::Internal("unset");
  if (changes) {
    protocol::HostPowerConfigRequest request;
    request.hostname = hostname_;
    request.on = on_;
    request.off = off_;
    request.cycle = cycle_;
    request.status = status_;
    request.console = console_;
    request.panic_patterns = patterns_;
    request.attributes = *attrs;
    request.secrets = *secrets;
    request.unset = unset_;
    reply = api.Call<protocol::HostPowerShowReply>(request);
  } else {
    reply = api.Call<protocol::HostPowerShowReply>(protocol::HostPowerShowRequest{hostname_});
  }
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    std::cout << Dump(protocol::ToJson(reply->config)) << "\n";
  } else {
    std::cout << FormatPowerConfig(reply->config, SystemClock::Default()->WallMs());
  }
  return kExitOk;
}

int PowerCommands::Power(client::ApiClient& api) {
  // A quick request first: an unknown host or an absent coordinator is told at once, not
  // after the long wait the power command's answer gets.
  auto shown = api.Call<protocol::HostPowerShowReply>(protocol::HostPowerShowRequest{hostname_});
  if (!shown.ok()) return Fail(shown.status());
  auto reply = api.Call<protocol::HostPowerReply>(
      protocol::HostPowerRequest{hostname_, action_}, std::max(api.timeout_ms(), kPowerReplyMs));
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    std::cout << Dump(protocol::ToJson(*reply)) << "\n";
  } else {
    std::cout << FormatPowerReply(*reply);
  }
  return reply->passed ? kExitOk : kExitFailed;
}

int PowerCommands::Console(client::ApiClient& api) {
  protocol::HostConsoleRequest request;
  request.hostname = hostname_;
  request.offset = -1;
  request.max_bytes = bytes_;
  bool first = true;
  std::string text;
  while (true) {
    auto reply = api.Call<protocol::HostConsoleReply>(request);
    if (!reply.ok()) return Fail(reply.status());
    if (first && !reply->configured && reply->data.empty()) {
      std::cerr << "host " << hostname_ << " has no console (labmesh host power-config "
                << hostname_ << " --console CMD)\n";
      return kExitFailed;
    }
    first = false;
    std::string piece(reply->data.begin(), reply->data.end());
    if (g_.json) {
      nlohmann::json doc = {{"host", hostname_},
                            {"offset", reply->offset},
                            {"console", piece},
                            {"next_offset", reply->next_offset},
                            {"reading", reply->reading}};
      if (follow_ || !piece.empty() || request.offset < 0) {
        std::cout << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      }
    } else {
      std::cout << piece;
    }
    std::cout.flush();
    const bool progressed = reply->next_offset > static_cast<uint64_t>(std::max<int64_t>(
                                                     0, request.offset));
    request.offset = static_cast<int64_t>(reply->next_offset);
    request.max_bytes = 0;
    if (!follow_) {
      if (!progressed || reply->data.empty() || g_.json) return kExitOk;
      continue;  // the rest of what there is
    }
    if (piece.empty()) std::this_thread::sleep_for(kConsolePollInterval);
  }
}

}  // namespace labmesh::cli
