#include "tutti/synth/fm_font.h"

#include <dlfcn.h>
#include <dssi.h>
#include <libinstpatch/libinstpatch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"

namespace tutti::synth {

namespace fs = std::filesystem;

namespace {

constexpr int kLowKey = 24;
constexpr int kHighKey = 108;

// hexter's 'configure' encoding of patch data: "<bytes> <7-bit values packed into base64
// characters, most significant bit first> <sum of the bytes>" (hexter's decode_7in6).
std::string encode_7in6(const std::vector<std::uint8_t>& data) {
  static const char* const kBase64 =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = std::to_string(data.size()) + ' ';
  unsigned sum = 0;
  unsigned reg = 0;
  int bits = 0;
  for (std::uint8_t b : data) {
    sum += b;
    reg = (reg << 7) | (b & 0x7f);
    bits += 7;
    while (bits >= 6) {
      out += kBase64[(reg >> (bits - 6)) & 0x3f];
      bits -= 6;
    }
    reg &= (1u << bits) - 1;
  }
  if (bits > 0) out += kBase64[(reg << (6 - bits)) & 0x3f];
  return out + ' ' + std::to_string(sum);
}

// The plugin, loaded once per build; an instance per note.
class DssiPlugin {
 public:
  explicit DssiPlugin(const std::string& path)
      : path_(path), so_(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL), &dlclose) {
    check(so_ != nullptr, "fm-font: {}: cannot load the DSSI plugin: {}", path, dlerror());
    auto fn = reinterpret_cast<DSSI_Descriptor_Function>(dlsym(so_.get(), "dssi_descriptor"));
    check(fn != nullptr, "fm-font: {}: not a DSSI plugin (no dssi_descriptor)", path);
    desc_ = fn(0);
    check(desc_ != nullptr && desc_->LADSPA_Plugin != nullptr &&
              std::strcmp(desc_->LADSPA_Plugin->Label, "hexter") == 0 &&
              desc_->configure != nullptr && desc_->select_program != nullptr &&
              desc_->run_synth != nullptr,
          "fm-font: {}: not the hexter DX7 plugin", path);
  }

  std::vector<float> render(const FmFontConfig& cfg, const Dx7Voice& voice, int key) const {
    const LADSPA_Descriptor* ld = desc_->LADSPA_Plugin;
    LADSPA_Handle h = ld->instantiate(ld, static_cast<unsigned long>(cfg.sample_rate_hz));
    check(h != nullptr, "fm-font: {}: the plugin did not instantiate", path_);
    constexpr unsigned long kBlock = 256;
    std::vector<float> block(kBlock, 0.0f);
    std::vector<float> controls(ld->PortCount, 0.0f);
    for (unsigned long p = 0; p < ld->PortCount; ++p) {
      const auto pd = ld->PortDescriptors[p];
      if (LADSPA_IS_PORT_AUDIO(pd)) {
        ld->connect_port(h, p, block.data());
      } else {
        const std::string name = ld->PortNames[p];
        // Concert pitch and unity gain; any other control at its lower bound.
        controls[p] = name == "Tuning"   ? 440.0f
                      : name == "Volume" ? 0.0f
                                         : ld->PortRangeHints[p].LowerBound;
        ld->connect_port(h, p, &controls[p]);
      }
    }
    if (ld->activate) ld->activate(h);
    // Oscillator key sync (byte 111, bit 3) and LFO key sync (byte 116, bit 0) on: every note
    // starts its operators and LFO at phase 0, instead of where hexter's shared voice pool left
    // them, so that the same voice always gives the same samples.
    auto synced = voice.packed;
    synced[111] |= 0x08;
    synced[116] |= 0x01;
    std::vector<std::uint8_t> bank;
    for (int i = 0; i < 32; ++i) bank.insert(bank.end(), synced.begin(), synced.end());
    if (char* err = desc_->configure(h, "patches0", encode_7in6(bank).c_str())) {
      const std::string msg = err;
      std::free(err);
      if (ld->deactivate) ld->deactivate(h);
      ld->cleanup(h);
      fail("fm-font: {}: the plugin refused voice '{}': {}", path_, voice.name, msg);
    }
    desc_->select_program(h, 0, 0);

    const auto hold = static_cast<std::size_t>(std::lround(cfg.hold_s * cfg.sample_rate_hz));
    const auto total =
        hold + static_cast<std::size_t>(std::lround(cfg.release_s * cfg.sample_rate_hz));
    std::vector<float> out;
    out.reserve(total);
    auto note = [key, &cfg](bool on, std::size_t at) {
      snd_seq_event_t ev{};
      ev.type = on ? SND_SEQ_EVENT_NOTEON : SND_SEQ_EVENT_NOTEOFF;
      ev.time.tick = static_cast<unsigned>(at);
      ev.data.note.note = static_cast<unsigned char>(key);
      ev.data.note.velocity = on ? static_cast<unsigned char>(cfg.velocity) : 0;
      return ev;
    };
    while (out.size() < total) {
      const std::size_t start = out.size();
      const std::size_t n = std::min<std::size_t>(kBlock, total - start);
      snd_seq_event_t events[2];
      unsigned long count = 0;
      if (start == 0) events[count++] = note(true, 0);
      if (start <= hold && hold < start + n) events[count++] = note(false, hold - start);
      std::fill(block.begin(), block.end(), 0.0f);
      desc_->run_synth(h, n, events, count);
      out.insert(out.end(), block.begin(), block.begin() + static_cast<long>(n));
    }
    if (ld->deactivate) ld->deactivate(h);
    ld->cleanup(h);
    return out;
  }

 private:
  std::string path_;
  std::unique_ptr<void, int (*)(void*)> so_;  // dlclose'd also when the constructor throws
  const DSSI_Descriptor* desc_ = nullptr;
};

std::vector<int> sample_keys(int step) {
  std::vector<int> keys;
  for (int k = kLowKey; k <= kHighKey; k += step) keys.push_back(k);
  return keys;
}

struct GObjectUnref {
  void operator()(void* p) const {
    if (p) g_object_unref(p);
  }
};
template <typename T>
using GPtr = std::unique_ptr<T, GObjectUnref>;

// A preset: one instrument whose zones hold the voice's notes, each zone the keys nearest to its
// note. `notes` are int16 mono samples at `rate`, one per key of `keys`.
void add_preset(IpatchSF2* sf2, int program_1based, const std::string& voice_name,
                const std::vector<int>& keys, const std::vector<std::vector<std::int16_t>>& notes,
                int rate) {
  const std::string name = voice_name.substr(0, 16) + " " + std::to_string(program_1based);
  GPtr<IpatchSF2Inst> inst(ipatch_sf2_inst_new());
  g_object_set(inst.get(), "name", name.c_str(), nullptr);
  ipatch_container_append(IPATCH_CONTAINER(sf2), IPATCH_ITEM(inst.get()));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto& pcm = notes[i];
    auto* buf = static_cast<std::int16_t*>(g_malloc(pcm.size() * sizeof(std::int16_t)));
    std::copy(pcm.begin(), pcm.end(), buf);
    GPtr<IpatchSample> store(ipatch_sample_store_ram_new(buf, TRUE));
    g_object_set(store.get(), "sample-size", static_cast<guint>(pcm.size()), "sample-format",
                 static_cast<int>(IPATCH_SAMPLE_16BIT) | static_cast<int>(IPATCH_SAMPLE_MONO) |
                     static_cast<int>(IPATCH_SAMPLE_ENDIAN_HOST),
                 "sample-rate", rate, nullptr);
    GPtr<IpatchSampleData> data(ipatch_sample_data_new());
    ipatch_sample_data_add(data.get(), IPATCH_SAMPLE_STORE(store.get()));

    GPtr<IpatchSF2Sample> sample(ipatch_sf2_sample_new());
    const std::string sname = voice_name.substr(0, 12) + " " + std::to_string(program_1based) +
                              "-" + std::to_string(keys[i]);
    g_object_set(sample.get(), "name", sname.c_str(), "sample-rate", rate, "root-note", keys[i],
                 nullptr);
    ipatch_sf2_sample_set_data(sample.get(), data.get());
    ipatch_container_append(IPATCH_CONTAINER(sf2), IPATCH_ITEM(sample.get()));

    GPtr<IpatchSF2IZone> zone(ipatch_sf2_izone_new());
    ipatch_sf2_zone_set_link_item(IPATCH_SF2_ZONE(zone.get()), IPATCH_ITEM(sample.get()));
    const int low = i == 0 ? 0 : (keys[i - 1] + keys[i]) / 2 + 1;
    const int high = i + 1 == keys.size() ? 127 : (keys[i] + keys[i + 1]) / 2;
    ipatch_sf2_gen_item_set_note_range(IPATCH_SF2_GEN_ITEM(zone.get()), low, high);
    IpatchSF2GenAmount release{};
    release.sword = -2084;  // timecents: a 0.3 s release when a note ends before its sample
    ipatch_sf2_gen_item_set_amount(IPATCH_SF2_GEN_ITEM(zone.get()), IPATCH_SF2_GEN_VOL_ENV_RELEASE,
                                   &release);
    ipatch_container_append(IPATCH_CONTAINER(inst.get()), IPATCH_ITEM(zone.get()));
  }
  GPtr<IpatchSF2Preset> preset(ipatch_sf2_preset_new());
  g_object_set(preset.get(), "name", name.c_str(), "bank", 0, "program", program_1based - 1,
               nullptr);
  ipatch_container_append(IPATCH_CONTAINER(sf2), IPATCH_ITEM(preset.get()));
  ipatch_sf2_preset_new_zone(preset.get(), inst.get());
}

void save_sf2(IpatchSF2* sf2, const fs::path& path) {
  GPtr<IpatchSF2File> file(ipatch_sf2_file_new());
  GError* err = nullptr;
  IpatchFileHandle* handle = ipatch_file_open(IPATCH_FILE(file.get()), path.c_str(), "w", &err);
  auto fail_with = [&](const char* what) {
    const std::string m = err ? err->message : "unknown error";
    if (err) g_error_free(err);
    fail("fm-font: {}: {}: {}", path.string(), what, m);
  };
  if (handle == nullptr) fail_with("cannot open for writing");
  // The writer owns the handle from here and closes it when released.
  GPtr<IpatchSF2Writer> writer(ipatch_sf2_writer_new(handle, sf2));
  const bool ok = ipatch_sf2_writer_save(writer.get(), &err);
  writer.reset();
  if (!ok) fail_with("cannot write the soundfont");
}

}  // namespace

void FmFontConfig::validate() const {
  check<UsageError>(sample_rate_hz >= 8000 && sample_rate_hz <= 96000,
                    "fm-font: --sample-rate {} is outside 8000-96000", sample_rate_hz);
  check<UsageError>(hold_s > 0 && hold_s <= 20, "fm-font: --hold {} is outside (0, 20] s", hold_s);
  check<UsageError>(release_s >= 0 && release_s <= 10, "fm-font: --release {} is outside [0, 10] s",
                    release_s);
  check<UsageError>(key_step >= 1 && key_step <= 24, "fm-font: --key-step {} is outside 1-24",
                    key_step);
  check<UsageError>(velocity >= 1 && velocity <= 127, "fm-font: --velocity {} is outside 1-127",
                    velocity);
}

std::vector<float> render_dx7_note(const FmFontConfig& cfg, const Dx7Voice& voice, int key) {
  cfg.validate();
  check<UsageError>(key >= 0 && key <= 127, "fm-font: key {} is outside 0-127", key);
  return DssiPlugin(cfg.plugin).render(cfg, voice, key);
}

FmFontSummary build_fm_font(const FmFontConfig& cfg, const fs::path& out) {
  cfg.validate();
  check<UsageError>(!cfg.banks.empty(), "fm-font: no DX7 bank given");
  FmFontSummary summary;
  // Voices by program group, in the order of the banks.
  std::map<std::vector<int>, std::vector<Dx7Voice>> groups;
  for (const auto& bank : cfg.banks) {
    for (auto& v : read_dx7_bank(bank)) {
      ++summary.voices_read;
      auto g = fm_voice_program_group(v.name);
      if (!g.empty()) groups[g].push_back(std::move(v));
    }
  }
  check(!groups.empty(), "fm-font: no voice of the banks is named after an instrument");
  DssiPlugin plugin(cfg.plugin);
  ipatch_init();
  GPtr<IpatchSF2> sf2(ipatch_sf2_new());
  ipatch_sf2_set_info(sf2.get(), IPATCH_SF2_NAME, cfg.name.c_str());
  const auto keys = sample_keys(cfg.key_step);
  // A voice's notes, rendered once: a group with fewer voices than programs repeats its voices.
  std::map<const Dx7Voice*, std::vector<std::vector<std::int16_t>>> rendered;
  auto notes_of = [&](const Dx7Voice& voice) -> const std::vector<std::vector<std::int16_t>>& {
    auto [it, fresh] = rendered.try_emplace(&voice);
    if (!fresh) return it->second;
    std::vector<std::vector<float>> notes;
    float peak = 0.0f;
    for (int k : keys) {
      notes.push_back(plugin.render(cfg, voice, k));
      for (float x : notes.back()) peak = std::max(peak, std::abs(x));
    }
    check(peak > 1e-4f, "fm-font: voice '{}' is silent", voice.name);
    // The loudest note at -6 dBFS; the other notes keep their level relative to it.
    const float gain = 0.5f / peak;
    for (const auto& note : notes) {
      auto& p = it->second.emplace_back(note.size());
      for (std::size_t j = 0; j < note.size(); ++j)
        p[j] = static_cast<std::int16_t>(std::lround(note[j] * gain * 32767.0f));
    }
    return it->second;
  };
  for (const auto& [group, voices] : groups) {
    for (std::size_t i = 0; i < group.size(); ++i) {
      const auto& voice = voices[i % voices.size()];
      add_preset(sf2.get(), group[i], voice.name, keys, notes_of(voice), cfg.sample_rate_hz);
      summary.presets.emplace_back(group[i], voice.name);
      summary.samples += static_cast<int>(keys.size());
    }
  }
  summary.voices_used = static_cast<int>(rendered.size());
  std::sort(summary.presets.begin(), summary.presets.end());
  core::AtomicFile file(out);
  save_sf2(sf2.get(), file.temp_path());
  file.commit();
  return summary;
}

}  // namespace tutti::synth
