# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that makes the collection importable for its unit tests.

Under ``ansible-test units`` the collection already sits in an ``ansible_collections/`` tree on the import path.
Under plain pytest (``make unit``) this conftest, loaded before any test module of this tree, does the same
as ansible-core: it installs Ansible's collection loader for the ``collections/`` directory holding this
collection, so ``ansible_collections.rocketce.power...`` imports - and the plugin loader - find it.
"""

from __future__ import annotations

import os

# .../collections/ansible_collections/rocketce/power/tests/unit -> .../collections
COLLECTIONS_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), *([os.pardir] * 5)))


def _install_collection_loader():
    from ansible.utils.collection_loader import AnsibleCollectionConfig

    if AnsibleCollectionConfig.collection_finder is not None:
        return  # ansible-test units installed it (its module tests cannot import the controller's plugin loader)
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader([COLLECTIONS_DIR])


_install_collection_loader()
