# Shared by the scripts: find the Swift toolchain.
if ! command -v swift >/dev/null 2>&1; then
    for dir in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
        [[ -x "$dir/swift" ]] && export PATH="$dir:$PATH" && break
    done
fi
command -v swift >/dev/null 2>&1 || { echo "error: no Swift toolchain on PATH (Swift 6 is needed: https://swift.org/install)" >&2; exit 1; }
