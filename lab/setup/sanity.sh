#!/usr/bin/env bash
# ansible-test sanity on the collection, with the tests that matter for a collection of modules and plugins.
# Requirements of each sanity test are installed by ansible-test into its own venv (--venv), so the project venv
# keeps its pinned versions.
set -euo pipefail
collection_dir=${1:?collection directory}
here=$(cd "$(dirname "$0")" && pwd)

# ansible-test bootstraps pip in its venvs with a get-pip script from ci-files.testing.ansible.com, which is not
# reachable from a machine that only reaches the package registries. Cache an equivalent script (installs pip
# from the pip wheel on PyPI) where ansible-test looks first.
pip_bootstrap_version=24.2
cache=~/.ansible/test/cache
mkdir -p ~/.ansible/test
if [ ! -f "$cache/get_pip_${pip_bootstrap_version//./_}.py" ]; then
  mkdir -p "$cache"
  python -m pip download -q --no-deps -d "$cache" "pip==$pip_bootstrap_version"
  sed "s/pip-24.2-py3-none-any.whl/pip-$pip_bootstrap_version-py3-none-any.whl/" "$here/get_pip_offline.py" \
    > "$cache/get_pip_${pip_bootstrap_version//./_}.py"
fi

cd "$collection_dir"
tests=(validate-modules compile import pep8 pylint yamllint shebang action-plugin-docs ansible-doc
       empty-init line-endings no-assert no-get-exception no-illegal-filenames no-smart-quotes
       runtime-metadata symlinks use-compat-six replace-urlopen)
args=()
for t in "${tests[@]}"; do args+=(--test "$t"); done
# ansible-test keeps the sanity tests' venvs in ~/.ansible/test/venv, shared by every checkout and every ansible-core
# version of this user, and removes a venv it finds half made: two runs at once (parallel checkouts) break each other.
exec 9>~/.ansible/test/sanity.lock
if ! flock -n 9; then
  echo "sanity.sh: waiting for another ansible-test sanity run of this user (~/.ansible/test/venv is shared)"
  flock 9
fi
echo "sanity.sh: $(ansible-test --version) on $collection_dir"
exec ansible-test sanity --python 3.11 --venv --requirements --color no "${args[@]}"
