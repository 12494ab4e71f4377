# Sourced (not run) by the scripts that configure a build: test.sh, demo.sh, package.sh and the
# bench*.sh. `configure DIR [CMAKE ARGS...]` runs cmake with the fastest tools present, each
# picked by `command -v` so a machine without them still builds with make and ld:
#   Ninja  schedules the whole tree at once and starts faster than make on a rebuild;
#   ccache keeps compiled objects between builds and build directories. Its cache lives outside
#          the tree, in ccache's own default (~/.cache/ccache; root's on CI) unless CCACHE_DIR
#          says otherwise, so it survives from one CI run to the next on a reused machine.
#          CCACHE_BASEDIR is the source root, so worktrees and clones of the repository share
#          hits (paths below it are hashed relative); the sloppiness lets a header written just
#          now (a fresh checkout) still hit in direct mode. 5 GB holds several configurations of this tree (one is ~0.5 GB);
#   mold   links the test binaries, each holding the whole coordinator or agent, in a fraction of
#          ld's time.
# A build directory configured with another generator (say make before ninja was installed) makes
# cmake stop with "Does not match the generator used previously": its cache is removed first,
# the sources and the ccache objects stay.

fast_build_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

configure() {
  local build_dir=$1
  shift
  local args=()
  local generator="Unix Makefiles"
  if command -v ninja >/dev/null; then generator=Ninja; fi
  args+=(-G "$generator")
  if command -v ccache >/dev/null; then
    # In the launcher rather than exported, so a later `cmake --build` by hand hashes the same.
    local launcher="env;CCACHE_BASEDIR=${CCACHE_BASEDIR:-$fast_build_root}"
    launcher+=";CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}"
    launcher+=";CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime"
    args+=("-DCMAKE_C_COMPILER_LAUNCHER=$launcher;ccache"
           "-DCMAKE_CXX_COMPILER_LAUNCHER=$launcher;ccache")
  else
    args+=(-DCMAKE_C_COMPILER_LAUNCHER= -DCMAKE_CXX_COMPILER_LAUNCHER=)
  fi
  if command -v mold >/dev/null; then
    args+=(-DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=mold -DCMAKE_SHARED_LINKER_FLAGS=-fuse-ld=mold)
  else
    args+=(-DCMAKE_EXE_LINKER_FLAGS= -DCMAKE_SHARED_LINKER_FLAGS=)
  fi
  local cache=$build_dir/CMakeCache.txt
  if [[ -f $cache ]] && ! grep -qx "CMAKE_GENERATOR:INTERNAL=$generator" "$cache"; then
    echo "configure: $build_dir was configured for another generator; removing its CMake cache"
    rm -rf "$cache" "$build_dir/CMakeFiles"
  fi
  cmake -S "$fast_build_root" -B "$build_dir" "${args[@]}" "$@"
}
