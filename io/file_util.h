// io/file_util.h — whole-file reads and atomic writes, gzip-aware (the only place io/ touches zlib).
//
// Contract:
//  * read_file_bytes / read_text_file return the whole content; a gzip stream is inflated (detected
//    by its magic bytes, not by the name). Failures throw IoError naming the file.
//  * write_file_atomically writes to a temporary file in the destination directory and renames it
//    over the destination, so readers see the old file or the new one, never a partial one. A path
//    ending in ".gz" is compressed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sse::io {

std::vector<char> read_file_bytes(const std::string& path);
std::string read_text_file(const std::string& path);
void write_file_atomically(const std::string& path, std::string_view bytes);

bool file_exists(const std::string& path);
bool ends_with(std::string_view s, std::string_view suffix);
// Lines split on '\n' with a trailing '\r' removed (Windows files).
std::vector<std::string> split_lines(const std::string& text);

}  // namespace sse::io
