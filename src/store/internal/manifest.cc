#include "store/internal/manifest.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "store/internal/file.h"

namespace quanyu::store::internal {
namespace {

// FormatDay output: "2026-11-22", or wider years for far-off timestamps.
bool IsDay(std::string_view d) {
  if (d.size() < 10 || d.size() > 24) return false;
  return d.find_first_not_of("0123456789-") == std::string_view::npos;
}

}  // namespace

std::string SegmentFileName(uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%012llu", static_cast<unsigned long long>(seq));
  return std::string(buf) + std::string(kSegmentSuffix);
}

std::string SegmentEntry::RelativePath() const {
  return std::string(kEventsDir) + "/" + day + "/" + SegmentFileName(seq);
}

std::string EncodeManifest(const Manifest& m) {
  nlohmann::json segments = nlohmann::json::array();
  for (const auto& s : m.segments) {
    segments.push_back({{"seq", s.seq},
                        {"file", s.RelativePath()},
                        {"day", s.day},
                        {"rows", s.rows},
                        {"bytes", s.bytes},
                        {"min_timestamp_us", s.min_timestamp_us},
                        {"max_timestamp_us", s.max_timestamp_us}});
  }
  nlohmann::json j = {{"format_version", kManifestFormatVersion},
                      {"checkpoint_lsn", m.checkpoint_lsn},
                      {"next_segment_seq", m.next_segment_seq},
                      {"segments", std::move(segments)}};
  return j.dump(1) + "\n";
}

Result<Manifest> DecodeManifest(std::string_view text) {
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    if (j.at("format_version").get<int>() != kManifestFormatVersion) {
      return Status::Corruption("unsupported manifest format_version");
    }
    Manifest m;
    m.checkpoint_lsn = j.at("checkpoint_lsn").get<uint64_t>();
    m.next_segment_seq = j.at("next_segment_seq").get<uint64_t>();
    std::set<uint64_t> seqs;
    for (const auto& s : j.at("segments")) {
      SegmentEntry e;
      e.seq = s.at("seq").get<uint64_t>();
      e.day = s.at("day").get<std::string>();
      e.rows = s.at("rows").get<uint64_t>();
      e.bytes = s.at("bytes").get<uint64_t>();
      e.min_timestamp_us = s.at("min_timestamp_us").get<int64_t>();
      e.max_timestamp_us = s.at("max_timestamp_us").get<int64_t>();
      if (!IsDay(e.day) || s.at("file").get<std::string>() != e.RelativePath()) {
        return Status::Corruption("manifest segment " + std::to_string(e.seq) + " has a bad path");
      }
      if (e.seq >= m.next_segment_seq || !seqs.insert(e.seq).second) {
        return Status::Corruption("manifest segment " + std::to_string(e.seq) + " has a bad seq");
      }
      m.segments.push_back(std::move(e));
    }
    return m;
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("malformed manifest: ") + e.what());
  }
}

Result<std::optional<Manifest>> ReadManifest(const std::string& dir) {
  const std::string path = dir + "/" + std::string(kManifestName);
  auto text = ReadWholeFile(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return std::optional<Manifest>();
    return text.status();
  }
  auto m = DecodeManifest(*text);
  if (!m.ok()) return m.status().WithContext(path);
  return std::optional<Manifest>(std::move(*m));
}

Status WriteManifest(const std::string& dir, const Manifest& manifest) {
  return WriteFileAtomically(dir + "/" + std::string(kManifestName), EncodeManifest(manifest));
}

Result<Manifest> OpenManifest(const std::string& dir) {
  ASSIGN_OR_RETURN(std::optional<Manifest> manifest, ReadManifest(dir));
  if (manifest) return std::move(*manifest);
  // A new store writes its manifest before any segment, so segments
  // without one mean the manifest was lost: refuse rather than delete them.
  const std::string events = dir + "/" + std::string(kEventsDir);
  if (auto days = ListDir(events); days.ok()) {
    for (const auto& day : *days) {
      auto files = ListDir(events + "/" + day.name);
      if (!files.ok()) continue;
      for (const auto& f : *files) {
        if (f.name.ends_with(kSegmentSuffix)) {
          return Status::Corruption(dir + ": segments exist but MANIFEST is missing");
        }
      }
    }
  }
  Manifest empty;
  RETURN_IF_ERROR(WriteManifest(dir, empty));
  return empty;
}

Status RemoveUnlistedFiles(const std::string& dir, const Manifest& manifest) {
  const std::string tmp = dir + "/" + std::string(kManifestName) + ".tmp";
  if (FileExists(tmp)) RETURN_IF_ERROR(RemoveFile(tmp));
  std::set<std::string> listed;
  for (const auto& e : manifest.segments) listed.insert(e.RelativePath());
  const std::string events(kEventsDir);
  const std::string tmp_suffix = std::string(kSegmentSuffix) + ".tmp";
  ASSIGN_OR_RETURN(auto days, ListDir(dir + "/" + events));
  for (const auto& day : days) {
    if (!day.is_dir) continue;
    ASSIGN_OR_RETURN(auto files, ListDir(dir + "/" + events + "/" + day.name));
    for (const auto& f : files) {
      const std::string rel = events + "/" + day.name + "/" + f.name;
      const bool ours = f.name.ends_with(kSegmentSuffix) || f.name.ends_with(tmp_suffix);
      if (!ours || listed.contains(rel)) continue;
      spdlog::warn("event store: removing {} (not in MANIFEST; left by an interrupted flush)", rel);
      RETURN_IF_ERROR(RemoveFile(dir + "/" + rel));
    }
  }
  return Status::OK();
}

}  // namespace quanyu::store::internal
