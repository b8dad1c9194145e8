#!/usr/bin/env bash
# ansible-test sanity on the collection, with the tests that matter for a collection of modules and plugins.
# Requirements of each sanity test are installed by ansible-test into its own venv (--venv), so the project venv
# keeps its pinned versions.
set -euo pipefail
collection_dir=${1:?collection directory}
cd "$collection_dir"
tests=(validate-modules compile import pep8 pylint yamllint shebang action-plugin-docs ansible-doc
       empty-init line-endings no-assert no-get-exception no-illegal-filenames no-smart-quotes
       runtime-metadata symlinks use-compat-six replace-urlopen)
args=()
for t in "${tests[@]}"; do args+=(--test "$t"); done
exec ansible-test sanity --python 3.11 --venv --requirements --color no "${args[@]}"
