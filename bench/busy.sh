# Sourced by the benchmarks that load the machine as the realistic trace was recorded (realistic.sh, stream.sh), with
# out=bench/out set: builds the .NET burner and xz's input once, and defines load SECONDS (xz -9 on one CPU, the burner
# with its perf map on the other; sets load_pids) and unload.
# The .NET program: the tests' burner, built here into bench/out/burner.
burner=$out/burner/out/burner
if [ ! -x "$burner" ]; then
  rm -rf "$out/burner"; mkdir -p "$out/burner"
  cp tests/Sampler.Tests/Data/nettrace/burner/* "$out/burner/"
  (cd "$out/burner" && dotnet build -c Release -o out -nologo -v q >/dev/null)
fi
# xz's input: 24 MB of base64 text (compressible, so liblzma's match finder works as on real files), made once.
[ -f "$out/xz-input" ] || head -c 18M /dev/urandom | base64 > "$out/xz-input"

load() { # starts the xz loop and the burner (for $1 s); sets load_pids
  ( while :; do xz -9 -T1 -c "$out/xz-input" >/dev/null; done ) & load_pids=$!
  DOTNET_PerfMapEnabled=1 "$burner" "$1" >/dev/null & load_pids="$load_pids $!"
}
unload() { kill $load_pids 2>/dev/null || true; wait $load_pids 2>/dev/null || true; }
