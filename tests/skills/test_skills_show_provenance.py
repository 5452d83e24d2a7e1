"""`skills show` shows an imported version's claimed provenance (author, stats as the
bundle claimed them) apart from this machine's own stats and uses."""

from __future__ import annotations

import json

from agent.cli import main
from skills.bundle import export_bundle
from skills.embed import HashEmbedder
from skills.index import MemoryIndex
from skills.library import SkillLibrary

CODE = 'def nudge(robot, obj):\n    """Nudge an object."""\n    robot.find(obj)\n'


def test_show_keeps_claims_apart_from_this_machines_evidence(tmp_path, capsys):
    src = SkillLibrary(tmp_path / "a", HashEmbedder(), MemoryIndex(), install_seeds=False)
    src.add("nudge", CODE, author="seed", stats={"push": (1000, 1000)})
    export_bundle(src, tmp_path / "lib.zip")
    src.close()
    home = str(tmp_path / "b")
    assert main(["--home", home, "skills", "import", str(tmp_path / "lib.zip"), "--json"]) == 0
    capsys.readouterr()
    assert main(["--home", home, "skills", "show", "nudge", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["stats"] == {} and data["uses"] == 0 and not data["verified"]
    claimed = data["provenance"]["claimed"]
    assert claimed["author"] == "seed" and claimed["stats"] == {"push": [1000, 1000]}
    assert data["provenance"]["bundle"].endswith("lib.zip")
    assert main(["--home", home, "skills", "show", "nudge"]) == 0
    out = capsys.readouterr().out
    assert "claimed by bundle" in out and "claimed stats push: 1000/1000" in out
    assert "\nstats push" not in out  # no stats of this machine's
    assert main(["--home", home, "skills", "show", "stack", "--json"]) == 0  # a seed here
    assert json.loads(capsys.readouterr().out)["provenance"] is None
