#!/usr/bin/env bash
# Fuzzes the JSON layer (tests/fuzz/fuzz_json.cpp) with libFuzzer for SECONDS (default 60).
#
#   tests/fuzz/run.sh [SECONDS]
#
# Builds the clang fuzz build (-DSPARKIFY_FUZZ=ON: the whole library under ASan + UBSan with
# coverage) in $SPARKIFY_FUZZ_BUILD (default build-fuzz), seeds a corpus in a temporary
# directory from a few built-in records and, when present, the real sample (event lines one
# per file, song files as they are), and fuzzes with tests/fuzz/json.dict. Exits non-zero when
# the fuzzer finds a crash, a leak or a sanitizer report; the input that caused it is kept in
# the build directory's artifacts/ (replay: fuzz_json FILE). Without clang it says so and
# exits 0. The corpus grown during a run goes to $SPARKIFY_FUZZ_CORPUS when that is set, so
# that long runs can build on each other.
set -euo pipefail

seconds=${1:-60}
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
build=${SPARKIFY_FUZZ_BUILD:-$source_dir/build-fuzz}
sample=${SPARKIFY_SHARED:-$source_dir/../shared}/data/udacity

if ! command -v clang >/dev/null || ! command -v clang++ >/dev/null; then
  echo "fuzz: skipped: clang is not installed (scripts/deps.sh test installs it)"
  exit 0
fi

# Optimised (the fuzzer runs more inputs) but with assertions, and simdjson's development
# checks, which assert on misuse of its On-Demand API.
cmake -S "$source_dir" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
  -DSPARKIFY_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j "${SPARKIFY_FUZZ_JOBS:-2}" --target fuzz_json >/dev/null

corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT

seed() {
  printf '%s' "$2" > "$corpus/builtin-$1"
}
seed event '{"artist":"Pavement","auth":"Logged In","firstName":"Sylvie","gender":"F","itemInSession":0,"lastName":"Cruz","length":99.16036,"level":"free","location":"Washington-Arlington-Alexandria, DC-VA-MD-WV","method":"PUT","page":"NextSong","registration":1540266185796.0,"sessionId":345,"song":"Mercy:The Laundromat","status":200,"ts":1541990258796,"userAgent":"\"Mozilla\/5.0 (Macintosh)\"","userId":"10"}'
seed song '{"num_songs": 1, "artist_id": "ARD7TVE1187B99BFB1", "artist_latitude": null, "artist_longitude": null, "artist_location": "California - LA", "artist_name": "Casual", "song_id": "SOMZWCG12A8C13C480", "title": "I Didn'"'"'t Mean To", "duration": 218.93179, "year": 0}'
seed songs $'{"song_id":"S1"}{"song_id":"S2"}\n{\n  "song_id": "S3",\n  "duration": 1.5\n}\n'
seed unknown '{"page":"Home","zzz":{"a":[1e400,-0.0e-999,"\u00e9\ud83d\ude00\/\b",true,false,null,{}]},"userId":"7"}'
seed nested '{"page":"Home","artist":{"name":["A","B"],"n":1},"location":[[],{}]}'
seed bom $'\xEF\xBB\xBF{"song_id":"S1","title":"T"}'
seed coerce '{"userId": 42, "artist": 1.50, "length": "", "sessionId": "17", "status": 200.0, "song": true, "ts": "1541990258796"}'

if [ -d "$sample/log_data" ]; then
  # Ten lines of each log file, one line per seed file.
  n=0
  for file in "$sample"/log_data/*/*/*.json; do
    while IFS= read -r line; do
      n=$((n + 1))
      printf '%s' "$line" > "$corpus/event-$n"
    done < <(head -n 10 "$file")
  done
  # Up to 300 song files, from song_data and then s3_subset/song_data.
  n=0
  while IFS= read -r file; do
    n=$((n + 1))
    cp "$file" "$corpus/song-$n"
  done < <(find "$sample/song_data" "$sample/s3_subset/song_data" -name '*.json' 2>/dev/null | sort | head -n 300)
else
  echo "fuzz: the real sample is absent at $sample: fuzzing from the built-in seeds only"
fi

mkdir -p "$build/artifacts"
corpora=("$corpus")
if [ -n "${SPARKIFY_FUZZ_CORPUS:-}" ]; then
  mkdir -p "$SPARKIFY_FUZZ_CORPUS"
  corpora=("$SPARKIFY_FUZZ_CORPUS" "$corpus")
fi
echo "fuzz: $(ls "$corpus" | wc -l) seeds, ${seconds}s"
# A finding ends the run with a non-zero status; the log names the input it kept.
"$build/tests/fuzz/fuzz_json" -max_total_time="$seconds" -max_len=65536 \
  -dict="$source_dir/tests/fuzz/json.dict" -artifact_prefix="$build/artifacts/" \
  -print_final_stats=1 "${corpora[@]}"
