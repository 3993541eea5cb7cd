// Internal: the two decoder back ends behind audio::Decoder::open (not a public header).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "tutti/audio/decoder.h"

namespace tutti::audio::detail {

// libsndfile. Returns nullptr and sets `why` when libsndfile does not recognise the file.
std::unique_ptr<Decoder> open_sndfile(const std::filesystem::path& path, std::string& why);
// FFmpeg (libavformat + libavcodec + libswresample). Throws tutti::Error on failure.
std::unique_ptr<Decoder> open_ffmpeg(const std::filesystem::path& path,
                                     const std::string& sndfile_why);

}  // namespace tutti::audio::detail
