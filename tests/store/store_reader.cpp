// store_reader: opens a labmesh store read-only and answers one command per stdin line, so a
// test can check what a separate process sees, also across the writer's later commits.
//   get NAME  -> "host NAME PUBLIC_KEY" | "absent" | "error STATUS"
//   count     -> "count N map=BYTES"    | "error STATUS"
//   quit
// If the store cannot be opened it prints "error STATUS" and exits 2.

#include <iostream>
#include <sstream>
#include <string>

#include "labmesh/store/store.hpp"

int main(int argc, char** argv) {
  using labmesh::store::Store;
  if (argc != 2) {
    std::cerr << "usage: store_reader DB_DIR\n";
    return 1;
  }
  labmesh::store::StoreOptions options;
  options.read_only = true;
  auto store = Store::Open(argv[1], options);
  if (!store.ok()) {
    std::cout << "error " << store.status().ToString() << std::endl;
    return 2;
  }
  std::cout << "ready" << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string command;
    in >> command;
    if (command == "get") {
      std::string name;
      in >> name;
      auto host = (*store)->GetHost(name);
      if (!host.ok()) {
        std::cout << "error " << host.status().ToString() << std::endl;
      } else if (!host->has_value()) {
        std::cout << "absent" << std::endl;
      } else {
        std::cout << "host " << (*host)->hostname << " " << (*host)->public_key << std::endl;
      }
    } else if (command == "count") {
      auto hosts = (*store)->ListHosts();
      if (!hosts.ok()) {
        std::cout << "error " << hosts.status().ToString() << std::endl;
      } else {
        std::cout << "count " << hosts->size() << " map=" << (*store)->map_size_bytes()
                  << std::endl;
      }
    } else if (command == "quit") {
      return 0;
    } else {
      std::cout << "error unknown command" << std::endl;
    }
  }
  return 0;
}
