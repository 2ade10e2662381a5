// Running the built `quanyu` binary from a cli_* test: its exit code,
// stdout and stderr.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "test_util.h"

namespace quanyu::testing {

struct CliRun {
  int exit_code = -1;
  std::string out, err;
  nlohmann::json Json() const { return nlohmann::json::parse(out, nullptr, false); }
};

// `s` single-quoted for the shell.
inline std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline std::string Binary() { return std::string(QUANYU_BINARY_DIR) + "/quanyu"; }

// Runs a shell command, capturing stdout and (through `err_path`) stderr.
inline CliRun RunShell(const std::string& command, const std::string& err_path) {
  CliRun run;
  FILE* pipe = popen((command + " 2>" + Quote(err_path)).c_str(), "r");
  if (!pipe) {
    ADD_FAILURE() << "cannot run " << command;
    return run;
  }
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) run.out.append(buf, n);
  int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.err = ReadFileOrEmpty(err_path);
  return run;
}

}  // namespace quanyu::testing
