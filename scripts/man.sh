#!/usr/bin/env bash
# Writes the manual pages of docs/man/ from the command line itself, with swift-argument-parser's
# generate-manual plugin: recovery-gateway(1) and one page per subcommand. Run it after changing a
# command, an option or its help; Tests/RecoveryGatewayTests/ManualPageTests.swift fails while the
# pages and `--help` disagree. The pages are dated with the latest release in CHANGELOG.md, so that
# running it again changes nothing unless the command line changed.
#
#   scripts/man.sh
set -euo pipefail
cd "$(dirname "$0")/.."
date=$(sed -n 's/^## \[[0-9][^]]*\] - \([0-9-]*\)$/\1/p' CHANGELOG.md | head -1)
[ -n "$date" ] || { echo "man.sh: no released version with a date in CHANGELOG.md" >&2; exit 1; }
swift package plugin generate-manual --multi-page --date "$date" --configuration debug >&2
generated=.build/plugins/GenerateManual/outputs/recovery-gateway
rm -f docs/man/*.1
mkdir -p docs/man
cp "$generated"/*.1 docs/man/
echo "man.sh: $(find docs/man -name '*.1' | wc -l) pages in docs/man/"
