#!/usr/bin/env bash
# One AFL++ campaign per fuzz target, SECONDS_PER_TARGET each (default 1800), then the inputs that reached new code
# are added to fuzz/corpus/<target>/ and any crash is listed. Needs afl++ (Debian's package) and the sharpfuzz tool
# (dotnet tool install --global SharpFuzz.CommandLine). Not run by CI: CI replays fuzz/corpus/ in the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${SECONDS_PER_TARGET:-1800}
work=${FUZZ_WORK:-/tmp/ppsharp-fuzz-work}
targets=${TARGETS:-frame sealed hello result define}
export PATH="$PATH:$HOME/.dotnet/tools"
export AFL_SKIP_BIN_CHECK=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1

rm -rf "$work" && mkdir -p "$work"
# Seeds come from an uninstrumented build (instrumented code expects AFL's shared memory), the fuzzing from an instrumented one.
dotnet publish fuzz/PPSharp.Fuzz -c Release -o "$work/plain" -v q
dotnet "$work/plain/PPSharp.Fuzz.dll" --seeds "$work/seeds"
dotnet publish fuzz/PPSharp.Fuzz -c Release -o "$work/instrumented" -v q
sharpfuzz "$work/instrumented/PPSharp.dll"

for target in $targets; do
    mkdir -p "$work/seeds/$target" fuzz/corpus/$target
    cp -n fuzz/corpus/$target/* "$work/seeds/$target/" 2>/dev/null || true
    afl-fuzz -i "$work/seeds/$target" -o "$work/findings-$target" -t 5000 -m none -V "$seconds" \
        -- dotnet "$work/instrumented/PPSharp.Fuzz.dll" "$target" > "$work/afl-$target.log" 2>&1 || true
    queue="$work/findings-$target/default/queue"
    for input in "$queue"/id*; do
        [ -f "$input" ] && cp "$input" "fuzz/corpus/$target/$(sha1sum "$input" | cut -c1-16)"
    done
    stats="$work/findings-$target/default/fuzzer_stats"
    echo "$target: $(grep -E '^(execs_done|corpus_count|saved_crashes|saved_hangs) ' "$stats" | tr -s ' ' | tr '\n' ' ')"
    ls "$work/findings-$target/default/crashes/" 2>/dev/null | grep -v README || true
done
