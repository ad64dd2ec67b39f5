import io

from appliance.ui.progress import Progress


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_on_a_terminal_only():
    tty = Tty()
    p = Progress("rendering", 200, tty)
    for _ in range(4):
        p(50)
    frames = tty.getvalue().split("\r")[1:]
    assert frames[0] == "rendering [#######.......................]  25%"
    assert frames[-1] == "rendering [##############################] 100%\n"
    quiet = io.StringIO()
    Progress("rendering", 10, quiet)(10)
    assert quiet.getvalue() == ""
