"""Bootstrap log lines match tor's wording."""

from zwiebel.managers.bootstrap import BootstrapState, Phase


def test_progress_lines_and_monotonic() -> None:
    lines: list[str] = []
    state = BootstrapState(on_change=lines.append)
    assert state.reach(Phase.CONN)
    assert state.reach(Phase.DONE)
    assert not state.reach(Phase.ENOUGH_DIRINFO)
    assert lines == [
        "Bootstrapped 5% (conn): Connecting to a relay",
        "Bootstrapped 100% (done): Done",
    ]
    assert state.phase_line() == 'NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"'
