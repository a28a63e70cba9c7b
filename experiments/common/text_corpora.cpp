// Readers of the two text corpora: the Bible as the `bible` program prints it, and the Brown
// corpus in NLTK's tagged layout.
#include <algorithm>
#include <array>
#include <map>
#include <sstream>

#include "experiments/common/binary_file.h"
#include "experiments/common/text.h"
#include "tensor/error.h"

namespace ember::experiments {
namespace {

namespace fs = std::filesystem;

// The whole file, checked to be UTF-8 text without NUL bytes; a missing file says how to fetch it.
std::string read_text(const fs::path& file, const char* who) {
  check(fs::exists(file), who, ": ", file.string(), " is missing (experiments/fetch_data.sh fetches it)");
  std::string bytes = read_file(file);
  check(!bytes.empty(), who, ": ", file.string(), " is empty");
  for (size_t i = 0; i < bytes.size();) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    check(b != 0, who, ": ", file.string(), ": NUL byte at offset ", i, " (not a text file)");
    // A lead byte 110xxxxx, 1110xxxx or 11110xxx takes 1, 2 or 3 continuation bytes 10xxxxxx.
    const size_t extra = b < 0x80 ? 0 : (b & 0xE0) == 0xC0 ? 1 : (b & 0xF0) == 0xE0 ? 2 : (b & 0xF8) == 0xF0 ? 3 : 4;
    bool ok = extra < 4 && i + extra < bytes.size();
    for (size_t j = 1; ok && j <= extra; ++j) ok = (static_cast<unsigned char>(bytes[i + j]) & 0xC0) == 0x80;
    check(ok, who, ": ", file.string(), ": malformed UTF-8 at offset ", i);
    i += 1 + extra;
  }
  return bytes;
}

constexpr std::array<const char*, 66> kBooks = {
    "Genesis", "Exodus", "Leviticus", "Numbers", "Deuteronomy", "Joshua", "Judges", "Ruth", "1 Samuel",
    "2 Samuel", "1 Kings", "2 Kings", "1 Chronicles", "2 Chronicles", "Ezra", "Nehemiah", "Esther", "Job",
    "Psalms", "Proverbs", "Ecclesiastes", "Song of Solomon", "Isaiah", "Jeremiah", "Lamentations", "Ezekiel",
    "Daniel", "Hosea", "Joel", "Amos", "Obadiah", "Jonah", "Micah", "Nahum", "Habakkuk", "Zephaniah", "Haggai",
    "Zechariah", "Malachi", "Matthew", "Mark", "Luke", "John", "Acts", "Romans", "1 Corinthians",
    "2 Corinthians", "Galatians", "Ephesians", "Philippians", "Colossians", "1 Thessalonians",
    "2 Thessalonians", "1 Timothy", "2 Timothy", "Titus", "Philemon", "Hebrews", "James", "1 Peter", "2 Peter",
    "1 John", "2 John", "3 John", "Jude", "Revelation"};
constexpr size_t kOldTestament = 39;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

TextCorpus load_bible_kjv(const fs::path& file) {
  const std::string bytes = read_text(file, "load_bible_kjv");
  TextCorpus corpus{.name = "kjv", .labels = {"old_testament", "new_testament"}, .documents = {}};
  std::istringstream in(bytes);
  std::string line, book;  // `book`: the abbreviation of the book being read ("Ge", "1Sm")
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    // "<book><chapter>:<verse> <text>"; the book may start with a digit ("1Sm1:1").
    const size_t space = line.find(' '), colon = line.find(':');
    size_t chapter = colon;
    while (chapter != std::string::npos && chapter > 0 && is_digit(line[chapter - 1])) --chapter;
    const bool ok = space != std::string::npos && colon < space && chapter > 0 && chapter < colon &&
                    colon + 1 < space && std::all_of(line.begin() + colon + 1, line.begin() + space, is_digit);
    check(ok, "load_bible_kjv: ", file.string(), ":", number, ": expected \"<book><chapter>:<verse> <text>\"");
    const std::string abbreviation = line.substr(0, chapter);
    if (abbreviation != book) {
      check(corpus.documents.size() < kBooks.size(), "load_bible_kjv: ", file.string(), ":", number,
            ": more than 66 books");
      book = abbreviation;
      const size_t index = corpus.documents.size();
      corpus.documents.push_back({.name = kBooks[index], .label = index < kOldTestament ? 0 : 1, .text = {}});
    }
    corpus.documents.back().text += line.substr(space + 1) + "\n";
  }
  check(corpus.documents.size() == kBooks.size(), "load_bible_kjv: ", file.string(), " holds ",
        corpus.documents.size(), " books, not 66 (truncated?)");
  return corpus;
}

namespace {

// One tagged Brown sentence as plain text appended to `out` (see load_brown for the rules).
void append_sentence(const std::string& line, std::string& out) {
  std::istringstream tokens(line);
  std::string token;
  bool glue = out.empty() || out.back() == '\n';  // no space before the next word
  while (tokens >> token) {
    std::string word = token.substr(0, token.rfind('/'));
    const bool opening = word == "``" || word == "(" || word == "[";
    const bool closing = word == "''" || word == "," || word == "." || word == ";" || word == ":" || word == "?" ||
                         word == "!" || word == ")" || word == "]";
    if (word == "``" || word == "''") word = "\"";
    if (!glue && !closing) out += ' ';
    out += word;
    glue = opening;
  }
}

}  // namespace

TextCorpus load_brown(const fs::path& dir) {
  const fs::path categories = dir / "cats.txt";
  const std::string listing = read_text(categories, "load_brown");
  TextCorpus corpus{.name = "brown", .labels = {}, .documents = {}};
  std::map<std::string, int64_t> label_of;
  std::istringstream in(listing);
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    std::string id, genre, extra;
    check(fields >> id >> genre && !(fields >> extra), "load_brown: ", categories.string(), ":", number,
          ": expected \"<file> <genre>\"");
    auto [it, added] = label_of.emplace(genre, static_cast<int64_t>(corpus.labels.size()));
    if (added) corpus.labels.push_back(genre);
    const fs::path file = dir / id;
    check(id.find('/') == std::string::npos, "load_brown: ", categories.string(), ":", number, ": bad file name ", id);
    std::istringstream body(read_text(file, "load_brown"));
    TextDocument doc{.name = id, .label = it->second, .text = {}};
    std::string sentence;
    while (std::getline(body, sentence)) {
      if (sentence.find_first_not_of(" \t\r") == std::string::npos) continue;
      if (sentence[0] == '\t' && !doc.text.empty()) doc.text += '\n';  // a new paragraph
      append_sentence(sentence, doc.text);
    }
    check(!doc.text.empty(), "load_brown: ", file.string(), " holds no words");
    doc.text += '\n';
    corpus.documents.push_back(std::move(doc));
  }
  check(!corpus.documents.empty(), "load_brown: ", categories.string(), " lists no documents");
  return corpus;
}

}  // namespace ember::experiments
