#!/usr/bin/env bash
# The linters for the languages beside Swift (CI runs `swift format lint --strict` next to this):
# ShellCheck over every shell script, and ruff (pinned in Tests/requirements.txt, configured in
# ruff.toml) over the Python tests and tools: `ruff check`, and `ruff format --check`, which
# reformats nothing. scripts/install-deps.sh installs both.
#
#   scripts/lint.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Every shell script git knows: *.sh, and the files whose first line names a shell (.ci/run).
shell_scripts=()
while IFS= read -r file; do
    case "$file" in
    *.sh) shell_scripts+=("$file") ;;
    *) [ -f "$file" ] && head -n1 "$file" | grep -qE '^#!(/usr/bin/env |/bin/)(ba)?sh\b' && shell_scripts+=("$file") ;;
    esac
done < <(git ls-files)
echo "== shellcheck (${#shell_scripts[@]} scripts)"
shellcheck --external-sources "${shell_scripts[@]}"

ruff=.venv/bin/ruff
mapfile -t python_files < <(git ls-files '*.py')
echo "== ruff check (${#python_files[@]} files)"
"$ruff" check --no-cache "${python_files[@]}"
echo "== ruff format --check"
"$ruff" format --no-cache --check "${python_files[@]}"
