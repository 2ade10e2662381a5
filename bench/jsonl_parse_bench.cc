// The limit for bulk import: a bare simdjson DOM parse of every line of a
// JSONL file on all cores, touching nothing else. Prints events/s.
// Usage: jsonl_parse_bench FILE
#include <simdjson.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s FILE.jsonl\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string data = ss.str();
  std::vector<std::string_view> lines;
  std::string_view rest(data);
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    if (nl) lines.push_back(rest.substr(0, nl));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<size_t> ok{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      simdjson::dom::parser parser;
      size_t n = 0;
      for (size_t i = t; i < lines.size(); i += threads) {
        simdjson::dom::element doc;
        if (!parser.parse(lines[i].data(), lines[i].size()).get(doc)) ++n;
      }
      ok += n;
    });
  }
  for (auto& th : pool) th.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%.0f\n", ok / secs);
  std::fprintf(stderr, "parsed %zu of %zu lines in %.3fs on %u threads\n", ok.load(), lines.size(),
               secs, threads);
  return 0;
}
