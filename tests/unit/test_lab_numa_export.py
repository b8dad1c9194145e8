"""The lab's closed loop without a playbook: the HMC simulator keeps each lab host's NUMA view file current
(hmcsim.export, `serve --numa-views`), so site.yml runs unchanged and numa_info on the host sees the placement."""

import json
from pathlib import Path

from hmcsim import export
from hmcsim.numa import numa_view
from hmcsim.state import Store

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "lab" / "hmc" / "model.yml"


def setup(tmp_path):
    host_etc = tmp_path / "hosts" / "ai-lpar01" / "root" / "etc" / "rocketce-lab"
    host_etc.mkdir(parents=True)
    down = tmp_path / "hosts" / "ai-lpar02" / "root" / "etc" / "rocketce-lab" / "numa-view.json"  # not mounted
    views = tmp_path / "numa-views.json"
    views.write_text(json.dumps({"views": [
        {"system": "p10-s1024-lab", "lpar": "ai-lpar01", "file": str(host_etc / "numa-view.json")},
        {"system": "p10-s1024-lab", "lpar": "ai-lpar02", "file": str(down)},
    ]}))
    store = Store(MODEL, tmp_path / "sim")
    return store, views, host_etc / "numa-view.json", down


def test_attach_writes_the_view_and_every_save_keeps_it_current(tmp_path):
    store, views, target, down = setup(tmp_path)
    export.attach(store, views)
    system = store.system("p10-s1024-lab")
    lpar = system.lpar_by_name("ai-lpar01")
    written = json.loads(target.read_text())
    assert {k: v for k, v in written.items() if k != "numactl_hardware"} == numa_view(system, lpar)
    assert written["numactl_hardware"].startswith(f"available: {len(written['nodes'])} nodes (")
    assert not down.parent.exists()  # a host that is down gets nothing, and no directory is created for it
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    # The placement changes (what a DPO does): the next save rewrites the view.
    before = target.read_text()
    lpar.placement = [lpar.placement[0].model_copy(update={"memory_mb": lpar.placement[0].memory_mb + 1024})]
    store.save()
    assert target.read_text() != before
    assert json.loads(target.read_text())["nodes"] == numa_view(system, lpar)["nodes"]


def test_an_unchanged_view_is_not_rewritten(tmp_path):
    store, views, target, _ = setup(tmp_path)
    assert export.write_views(store, views) == [str(target)]
    assert export.write_views(store, views) == []


def test_another_process_writes_the_view_from_the_saved_state(tmp_path):
    store, views, target, _ = setup(tmp_path)
    store.save()
    assert export.export_snapshot(tmp_path / "sim", views, MODEL) == [str(target)]
    assert json.loads(target.read_text())["lpar"] == "ai-lpar01"


def test_an_unknown_partition_or_a_broken_list_writes_nothing(tmp_path):
    store, views, target, _ = setup(tmp_path)
    views.write_text(json.dumps({"views": [{"system": "p10-s1024-lab", "lpar": "nope", "file": str(target)}]}))
    assert export.write_views(store, views) == []
    views.write_text("{not json")
    assert export.write_views(store, views) == []
    assert not target.exists()
