// Searching a whole data directory for a deleted person's data (the
// deletion-completeness tests): every file's bytes, plus the decompressed
// content of every zstd frame in it — the event segments and RocksDB's
// tables compress with zstd, so a plain grep would miss what they hold.
#pragma once

#include <zstd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "test_util.h"

namespace quanyu::testing {

// The file's bytes followed by the output of every zstd frame found in it
// (each frame decoded from its magic number until it ends or fails).
inline std::string SearchableContents(const std::string& path) {
  const std::string raw = ReadFileOrEmpty(path);
  std::string out = raw;
  static constexpr unsigned char kMagic[4] = {0x28, 0xB5, 0x2F, 0xFD};
  const std::string_view magic(reinterpret_cast<const char*>(kMagic), 4);
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  std::vector<char> buf(1 << 16);
  for (size_t at = raw.find(magic); at != std::string::npos; at = raw.find(magic, at + 1)) {
    ZSTD_DCtx_reset(ctx, ZSTD_reset_session_only);
    ZSTD_inBuffer in{raw.data() + at, raw.size() - at, 0};
    size_t produced = 0;
    for (;;) {
      ZSTD_outBuffer o{buf.data(), buf.size(), 0};
      const size_t ret = ZSTD_decompressStream(ctx, &o, &in);
      if (ZSTD_isError(ret)) break;
      out.append(buf.data(), o.pos);
      produced += o.pos;
      if (ret == 0 || produced > (size_t{256} << 20)) break;  // frame done (or absurd)
      if (o.pos == 0 && in.pos == in.size) break;             // input ended mid-frame
    }
  }
  ZSTD_freeDCtx(ctx);
  return out;
}

// The files under `dir` (recursively) whose searchable contents hold
// `needle`, relative to `dir`.
inline std::vector<std::string> FilesHolding(const std::string& dir,
                                             const std::vector<std::string>& needles,
                                             std::vector<std::string>* found_needles = nullptr) {
  std::vector<std::string> hits;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string contents = SearchableContents(entry.path().string());
    for (const auto& needle : needles) {
      if (contents.find(needle) != std::string::npos) {
        hits.push_back(std::filesystem::relative(entry.path(), dir).string() + " holds \"" +
                       needle + "\"");
        if (found_needles) found_needles->push_back(needle);
      }
    }
  }
  return hits;
}

}  // namespace quanyu::testing
