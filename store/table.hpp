#pragma once
// Typed tables: values are MessagePack encodings of T (msgpack-cxx, with T's adaptors from
// record_codec.hpp). KvTable<T> is a table of the store over either backend (kv.hpp); Table<T> is
// one LMDB named database (the results index). This is the one layer of the store
// that talks to msgpack, so it is where msgpack's exceptions are caught: bytes that do not decode
// to a T become Status::Corruption naming the table and key, never a crash. Private to the store
// (and its tests): it pulls in msgpack.

#include <cstdint>
#include <exception>
#include <msgpack.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "labmesh/common/status.hpp"
#include "kv.hpp"
#include "lmdb_env.hpp"
#include "record_codec.hpp"

namespace labmesh::store {

// Encodes `value` as MessagePack. Fails (Internal) only when memory runs out.
template <typename T>
Result<std::string> EncodeValue(const T& value) {
  try {
    msgpack::sbuffer buffer;
    msgpack::pack(buffer, value);
    return std::string(buffer.data(), buffer.size());
  } catch (const std::exception& e) {
    return Status::Internal(std::string("encode: ") + e.what());
  }
}

// Encodes `value` into `buffer` (cleared first), for writers that encode many values and want
// to reuse one buffer: its bytes are valid until the next call.
template <typename T>
Result<std::string_view> EncodeInto(msgpack::sbuffer& buffer, const T& value) {
  try {
    buffer.clear();
    msgpack::pack(buffer, value);
    return std::string_view(buffer.data(), buffer.size());
  } catch (const std::exception& e) {
    return Status::Internal(std::string("encode: ") + e.what());
  }
}

// Decodes exactly one MessagePack object filling all of `bytes` into a T. Missing map keys keep
// T's defaults and unknown keys are ignored (fields can be added without a migration); anything
// else that does not fit - truncated or trailing bytes, wrong types, absurd lengths - is
// Corruption naming `what`.
template <typename T>
Result<T> DecodeValue(std::string_view bytes, std::string_view what) {
  try {
    // Every element takes at least one byte, so no honest length exceeds the input; the limit
    // stops a corrupt length from making msgpack allocate gigabytes first.
    const std::size_t n = bytes.size();
    const msgpack::unpack_limit limit(n, n, n, n, n, /*depth=*/64);
    std::size_t offset = 0;
    msgpack::object_handle handle =
        msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr, limit);
    if (offset != bytes.size()) {
      return Status::Corruption(std::string(what) + ": trailing bytes after the value");
    }
    T value{};
    handle.get().convert(value);
    return value;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string(what) + ": cannot decode: " + e.what());
  }
}

template <typename T>
class Table {
 public:
  Table() = default;
  explicit Table(Dbi dbi) : dbi_(std::move(dbi)) {}

  const Dbi& dbi() const { return dbi_; }
  const std::string& name() const { return dbi_.name; }

  // The value at `key`, nullopt when absent; Corruption when stored bytes do not decode.
  Result<std::optional<T>> Get(const Txn& txn, std::string_view key) const {
    Result<std::optional<std::string_view>> bytes = txn.Get(dbi_, key);
    if (!bytes.ok()) return bytes.status();
    if (!bytes->has_value()) return std::optional<T>();
    Result<T> value = DecodeValue<T>(**bytes, Describe(key));
    if (!value.ok()) return value.status();
    return std::optional<T>(std::move(value).value());
  }

  // Every value, in key (byte) order. One undecodable value fails the whole listing.
  Result<std::vector<T>> List(const Txn& txn) const {
    std::vector<T> values;
    Status status = txn.ForEach(dbi_, [&](std::string_view key, std::string_view bytes) {
      Result<T> value = DecodeValue<T>(bytes, Describe(key));
      if (!value.ok()) return value.status();
      values.push_back(std::move(value).value());
      return Status::Ok();
    });
    if (!status.ok()) return status;
    return values;
  }

  // Stores `value` at `key`, replacing what was there. An empty key or one longer than LMDB's
  // maximum is InvalidArgument.
  Status Put(WriteTxn& txn, std::string_view key, const T& value) const {
    if (key.empty()) return Status::InvalidArgument(dbi_.name + ": empty key");
    Result<std::string> bytes = EncodeValue(value);
    if (!bytes.ok()) return bytes.status();
    return txn.Put(dbi_, key, *bytes);
  }

  // Removes `key`; removing an absent key is OK.
  Status Delete(WriteTxn& txn, std::string_view key) const {
    if (key.empty()) return Status::InvalidArgument(dbi_.name + ": empty key");
    return txn.Delete(dbi_, key);
  }

 private:
  std::string Describe(std::string_view key) const {
    return dbi_.name + "[" + std::string(key) + "]";
  }

  Dbi dbi_;
};

// A table of the store, over the key-value layer (either backend).
template <typename T>
class KvTable {
 public:
  explicit KvTable(TableId table) : table_(table) {}

  TableId id() const { return table_; }

  // The value at `key`, nullopt when absent; Corruption when stored bytes do not decode.
  Result<std::optional<T>> Get(const KvRead& txn, std::string_view key) const {
    Result<std::optional<std::string_view>> bytes = txn.Get(table_, key);
    if (!bytes.ok()) return bytes.status();
    if (!bytes->has_value()) return std::optional<T>();
    Result<T> value = DecodeValue<T>(**bytes, Describe(key));
    if (!value.ok()) return value.status();
    return std::optional<T>(std::move(value).value());
  }

  // The values with from <= key < to ("" = no end), in key order (or from the highest down when
  // `reverse`), at most `limit` (0 = all). One undecodable value fails the whole listing.
  Result<std::vector<T>> Range(const KvRead& txn, std::string_view from, std::string_view to,
                               bool reverse = false, size_t limit = 0) const {
    std::vector<T> values;
    Status status = txn.Scan(table_, from, to, reverse,
                             [&](std::string_view key, std::string_view bytes) -> Result<bool> {
                               Result<T> value = DecodeValue<T>(bytes, Describe(key));
                               if (!value.ok()) return value.status();
                               values.push_back(std::move(value).value());
                               return limit == 0 || values.size() < limit;
                             });
    if (!status.ok()) return status;
    return values;
  }
  Result<std::vector<T>> List(const KvRead& txn) const { return Range(txn, "", ""); }

  Status Put(KvWrite& txn, std::string_view key, const T& value) const {
    if (key.empty()) return Status::InvalidArgument(std::string(TableName(table_)) + ": empty key");
    Result<std::string> bytes = EncodeValue(value);
    if (!bytes.ok()) return bytes.status();
    return txn.Put(table_, key, *bytes);
  }

  Status Delete(KvWrite& txn, std::string_view key) const {
    if (key.empty()) return Status::InvalidArgument(std::string(TableName(table_)) + ": empty key");
    return txn.Delete(table_, key);
  }

 private:
  std::string Describe(std::string_view key) const {
    return std::string(TableName(table_)) + "[" + std::string(key) + "]";
  }

  TableId table_;
};

}  // namespace labmesh::store
