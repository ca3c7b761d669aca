"""A plot of training curves whose figure is built off the UI thread."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot


@dataclass(frozen=True)
class PlotLine:
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    color: str
    label: str = ""  # shown in the plot's own legend box


@dataclass(frozen=True)
class Chart:
    """What to draw: plain data, so that a worker thread can build it."""

    title: str
    xlabel: str = ""
    lines: tuple[PlotLine, ...] = ()
    levels: tuple[tuple[float, str], ...] = ()  # horizontal lines: (value, colour)


class ChartPlot(PlotextPlot):
    """PlotextPlot builds the whole figure inside render(), on the UI thread: 15-20 ms for
    a small plot, two or three times that while training jobs load the CPU, and a key
    pressed meanwhile waits. Here a worker thread builds the figure whenever the chart,
    the size or the theme changes, and render() shows the last one built."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._chart = Chart("")
        self._wanted: tuple | None = None  # (chart, size, theme) to show
        self._shown: tuple | None = None  # ... and the one on screen
        self._figure = Text("")

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda theme: self._theme_changed(theme.name))

    def _theme_changed(self, name: str) -> None:
        self._register_theme(name)  # (PlotextPlot's own watcher may run after this one)
        self._request()

    def show(self, chart: Chart) -> None:
        self._chart = chart
        self._request()

    @property
    def settled(self) -> bool:
        """The figure on screen is the latest chart asked for (a plot out of sight asks
        for nothing until it is shown)."""
        return self._shown == self._wanted

    def on_resize(self) -> None:
        self._request()

    def _request(self) -> None:
        if not self.is_mounted or not self.size.area:
            return
        wanted = (self._chart, self.size, self._get_plotext_theme_name(self.app.theme))
        if wanted != self._wanted:
            self._wanted = wanted
            self._build(wanted)

    @work(thread=True, exclusive=True, group="chart", exit_on_error=False)
    def _build(self, wanted: tuple) -> None:
        chart, size, theme = wanted
        figure = Plot()
        figure.plotsize(size.width, size.height)
        figure._set_size(size.width, size.height)  # as PlotextPlot.render does (its issue #5)
        figure.theme(theme)
        for line in chart.lines:
            figure.plot(list(line.xs), list(line.ys), label=line.label or None, color=line.color, marker="braille")
        for value, color in chart.levels:
            figure.hline(value, color)
        figure.title(chart.title)
        if chart.xlabel:
            figure.xlabel(chart.xlabel)
        text = Text.from_ansi(figure.build())
        try:
            self.app.call_from_thread(self._built, wanted, text)
        except Exception:  # the app is closing
            pass

    def _built(self, wanted: tuple, text: Text) -> None:
        if wanted == self._wanted:  # else a newer figure is on its way
            self._shown, self._figure = wanted, text
            self.refresh()

    def render(self) -> Text:
        return self._figure
