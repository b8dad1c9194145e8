# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one skeleton of every HMC module: options, name checks, one connection, one way to fail.

A module gives its own options, the options that hold HMC names, and a ``run(module, client)`` that returns
the result dict; :func:`run_hmc_module` does the rest::

    def main():
        run_hmc_module(dict(system=dict(type="str", required=True), ...), run,
                       names={"system": "managed system"}, check_params=check_ranges)

* the shared connection options (``hmc_client.hmc_argument_spec``) are merged into the module's options;
* options named in ``names`` are validated (``hmc_names.validate_name``; list options are de-duplicated)
  before any connection is opened, then ``check_params(params)`` runs, if given;
* ONE client is opened (paramiko, host keys checked by default) and passed to ``run``;
* every :class:`HmcError` - bad names or option values, connection, host key, command, output format,
  partial results - becomes one ``fail_json`` with the HMC's raw text and codes (``hmc_errors.hmc_failure``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rocketce.power.plugins.module_utils.hmc_client import (
    hmc_argument_spec,
    hmc_client_from_module,
)
from ansible_collections.rocketce.power.plugins.module_utils.hmc_errors import (
    HmcError,
    HmcParameterError,
    hmc_failure,
)
from ansible_collections.rocketce.power.plugins.module_utils.hmc_names import validate_name, validate_names


def run_hmc_module(argument_spec, run, names=None, check_params=None, supports_check_mode=True, **module_options):
    """Build the AnsibleModule, validate, open one HMC client, call ``run(module, client)``, exit or fail.

    ``names`` maps option names to HMC name kinds (``"managed system"``, ``"partition"``, ``"profile"``);
    ``module_options`` go to AnsibleModule (``required_if``, ``mutually_exclusive``...).
    """
    spec = hmc_argument_spec()
    spec.update(argument_spec)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=supports_check_mode, **module_options)
    try:
        validate_name_options(module.params, names or {})
        if check_params is not None:
            check_params(module.params)
        with hmc_client_from_module(module) as client:
            result = run(module, client)
    except HmcError as exc:
        module.fail_json(**hmc_failure(exc))
    module.exit_json(**result)


def validate_name_options(params, names):
    """Validate every option of ``names`` that is set; list options are replaced by their de-duplicated list."""
    for option, kind in names.items():
        value = params.get(option)
        if value is None:
            continue
        if isinstance(value, list):
            params[option] = validate_names(value, kind)
        else:
            validate_name(value, kind)


def require_range(params, option, low, high=None):
    """:class:`HmcParameterError` unless ``low <= params[option] <= high`` (no upper bound when ``high`` is None)."""
    value = params[option]
    if value < low or (high is not None and value > high):
        raise HmcParameterError("%s must be between %s and %s, got %s"
                                % (option, low, "any" if high is None else high, value))
