"""`teller goals` and `teller funnels` as a user runs them, on both engines."""

import pytest
from test_cli import _engines, embedded_env, teller  # noqa: F401 (embedded_env is a fixture)


@pytest.mark.parametrize("args", [["goals", "add"], ["goals", "list"], ["goals", "remove"], ["funnels", "add"]])
def test_goal_commands_have_help(args: list[str], embedded_env: dict[str, str]) -> None:  # noqa: F811
    result = teller([*args, "--help"], embedded_env)
    assert result.returncode == 0 and "Usage:" in result.stdout


@pytest.mark.parametrize("engine", ["embedded", "server"])
def test_goals_and_funnels(engine: str, embedded_env: dict[str, str], request: pytest.FixtureRequest) -> None:  # noqa: F811
    env = _engines(request, embedded_env, engine)
    assert teller(["migrate"], env).returncode == 0
    assert teller(["sites", "add", "example.com"], env).returncode == 0
    added = teller(["goals", "add", "example.com", "--pattern", "/blog/**"], env)
    assert added.returncode == 0 and "'Visit /blog/**'" in added.stdout, added.stderr
    event = teller(["goals", "add", "example.com", "--kind", "event", "--event", "Signup", "--prop", "plan=pro"], env)
    assert event.returncode == 0 and "'Signup (plan=pro)'" in event.stdout
    scroll = ["goals", "add", "example.com", "--kind", "scroll", "--pattern", "/docs/*", "--depth", "60"]
    assert teller([*scroll, "--name", "Read docs"], env).returncode == 0
    listed = teller(["goals", "list", "example.com"], env).stdout.splitlines()
    assert [line.split("\t")[1:] for line in listed] == [
        ["pageview", "Visit /blog/**", "/blog/**"],
        ["event", "Signup (plan=pro)", "Signup plan=pro"],
        ["scroll", "Read docs", "/docs/* 60%"],
    ]
    bad = teller(["goals", "add", "example.com", "--kind", "scroll", "--pattern", "/x", "--depth", "0"], env)
    assert bad.returncode == 1 and "depth" in bad.stderr and "Traceback" not in bad.stderr
    unknown = teller(["goals", "add", "nosuch.example", "--pattern", "/"], env)
    assert unknown.returncode == 1 and "not a registered site" in unknown.stderr

    funnel = teller(["funnels", "add", "example.com", "Blog to signup", "Visit /blog/**", "Signup (plan=pro)"], env)
    assert funnel.returncode == 0, funnel.stderr
    assert "Visit /blog/** > Signup (plan=pro)" in teller(["funnels", "list", "example.com"], env).stdout
    assert teller(["funnels", "remove", "example.com", "Blog to signup"], env).returncode == 0

    assert teller(["goals", "remove", "example.com", "Read docs"], env).returncode == 0
    assert len(teller(["goals", "list", "example.com"], env).stdout.splitlines()) == 2
    missing = teller(["goals", "remove", "example.com", "Read docs"], env)
    assert missing.returncode == 1 and "no goal" in missing.stderr
