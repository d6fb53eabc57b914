// io/file_util.cpp — see file_util.h.
#include "io/file_util.h"

#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

#include "io/error.h"

namespace sse::io {
namespace {

std::string errno_text() { return std::strerror(errno); }

// Unique per process and call: two threads or processes never share a temporary name.
std::string temp_name_for(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

void write_plain(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw file_error(path, "cannot create file: " + errno_text());
  out.write(bytes.data(), std::streamsize(bytes.size()));
  out.flush();
  if (!out) throw file_error(path, "write failed: " + errno_text());
}

void write_gzip(const std::string& path, std::string_view bytes) {
  gzFile f = gzopen(path.c_str(), "wb6");
  if (!f) throw file_error(path, "cannot create file: " + errno_text());
  std::size_t done = 0;
  while (done < bytes.size()) {
    const unsigned chunk = unsigned(std::min<std::size_t>(bytes.size() - done, 1u << 30));
    if (gzwrite(f, bytes.data() + done, chunk) != int(chunk)) {
      gzclose(f);
      throw file_error(path, "gzip write failed");
    }
    done += chunk;
  }
  if (gzclose(f) != Z_OK) throw file_error(path, "gzip close failed");
}

}  // namespace

std::vector<char> read_file_bytes(const std::string& path) {
  if (!file_exists(path)) throw file_error(path, "file not found");
  // gzread reads non-gzip files unchanged, so one path serves both.
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw file_error(path, "cannot open: " + errno_text());
  gzbuffer(f, 1 << 17);
  std::vector<char> out;
  std::vector<char> buf(1 << 20);
  for (;;) {
    const int got = gzread(f, buf.data(), unsigned(buf.size()));
    if (got < 0) {
      int err = 0;
      std::string msg = gzerror(f, &err);
      gzclose(f);
      throw file_error(path, "read failed (corrupt gzip?): " + msg);
    }
    if (got == 0) break;
    out.insert(out.end(), buf.data(), buf.data() + got);
  }
  gzclose(f);
  return out;
}

std::string read_text_file(const std::string& path) {
  std::vector<char> b = read_file_bytes(path);
  return std::string(b.begin(), b.end());
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  const std::string tmp = temp_name_for(path);
  try {
    if (ends_with(path, ".gz"))
      write_gzip(tmp, bytes);
    else
      write_plain(tmp, bytes);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text();
    std::remove(tmp.c_str());
    throw file_error(path, "cannot move temporary file into place: " + why);
  }
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::size_t stop = end;
    if (stop > start && text[stop - 1] == '\r') --stop;
    lines.emplace_back(text, start, stop - start);
    start = end + 1;
  }
  return lines;
}

}  // namespace sse::io
