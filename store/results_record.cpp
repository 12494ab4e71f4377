// Pure rules of the results index: status names, counts, and the validation of a record.

#include <algorithm>
#include <array>

#include "labmesh/store/results_index.hpp"

namespace labmesh::store {
namespace {

constexpr std::array<std::string_view, kResultStatusCount> kStatusNames = {
    "GOOD", "FAIL", "ERROR", "ABORT", "WARN", "TEST_NA"};

// A name used inside index keys: 1..max bytes, no NUL (NUL separates names in keys).
Status CheckName(std::string_view field, std::string_view value, size_t max) {
  if (value.empty() || value.size() > max) {
    return Status::InvalidArgument(std::string(field) + " must be 1 to " + std::to_string(max) +
                                   " bytes (got " + std::to_string(value.size()) + ")");
  }
  if (value.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument(std::string(field) + " holds a NUL byte");
  }
  return Status::Ok();
}

}  // namespace

std::string_view ResultStatusName(ResultStatus status) {
  auto i = static_cast<size_t>(status);
  return i < kStatusNames.size() ? kStatusNames[i] : std::string_view("UNKNOWN");
}

std::optional<ResultStatus> ParseResultStatus(std::string_view name) {
  for (size_t i = 0; i < kStatusNames.size(); ++i) {
    if (kStatusNames[i] == name) return static_cast<ResultStatus>(i);
  }
  return std::nullopt;
}

uint64_t StatusCounts::total() const {
  uint64_t sum = 0;
  for (uint64_t n : by_status) sum += n;
  return sum;
}

std::optional<double> StatusCounts::pass_rate() const {
  uint64_t counted = total() - (*this)[ResultStatus::kTestNa];
  if (counted == 0) return std::nullopt;
  return static_cast<double>((*this)[ResultStatus::kGood]) / static_cast<double>(counted);
}

Status ValidateResultRecord(const ResultRecord& record) {
  LABMESH_RETURN_IF_ERROR(CheckName("test name", record.test, kMaxTestNameBytes));
  LABMESH_RETURN_IF_ERROR(CheckName("hostname", record.hostname, kMaxResultHostnameBytes));
  for (const std::string& label : record.labels) {
    LABMESH_RETURN_IF_ERROR(CheckName("label", label, kMaxResultLabelBytes));
  }
  if (std::adjacent_find(record.labels.begin(), record.labels.end(),
                         [](const std::string& a, const std::string& b) { return !(a < b); }) !=
      record.labels.end()) {
    return Status::InvalidArgument("labels must be sorted and distinct");
  }
  if (!ParseResultStatus(record.status)) {
    return Status::InvalidArgument("unknown status \"" + record.status +
                                   "\" (GOOD FAIL ERROR ABORT WARN TEST_NA)");
  }
  if (record.start_us < 0) return Status::InvalidArgument("start_us is negative");
  return Status::Ok();
}

}  // namespace labmesh::store
