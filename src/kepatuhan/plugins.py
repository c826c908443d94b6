"""The plugin manager: finds plugins, calls their registration hooks, owns the registry.

A :class:`PluginManager` is an object, not a module global: tests make their own. It
registers the core's built-in plugin exactly as it registers a third-party one, loads the
``kepatuhan`` entry-point group, and calls ``check_pending()`` so that a misspelt hook
name fails loudly. Three environment variables steer it from outside:

``KEPATUHAN_LOAD_PLUGINS``
    comma-separated entry-point names to load (set but empty: load none);
``KEPATUHAN_DISABLE_PLUGINS``
    comma-separated entry-point names never to load;
``KEPATUHAN_TRACE_PLUGINS``
    any non-empty value: print every hook call and result to stderr.
"""

from __future__ import annotations

import difflib
import functools
import importlib.metadata as md
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import attrs
import pluggy

from . import builtin, hookspecs
from .aggregators import Aggregator
from .errors import (
    DuplicateNameError,
    KepatuhanError,
    PluginError,
    Problem,
    RubricError,
    UnknownNameError,
)
from .rubric import Rubric
from .scales import Scale

__all__ = [
    "BUILTIN",
    "HookCall",
    "PluginInfo",
    "PluginManager",
    "Registered",
    "Registry",
    "default_manager",
]

#: The name under which the core's own plugin is registered.
BUILTIN = "kepatuhan.builtin"
T = TypeVar("T")


@attrs.frozen
class Registered(Generic[T]):
    """A registered thing and the name of the plugin that provided it."""

    value: T
    plugin: str


@attrs.frozen
class HookCall:
    """One plugin's answer to one hook call, and how long it took."""

    plugin: str
    result: Any
    seconds: float


@attrs.frozen
class PluginInfo:
    """What ``kepatuhan plugins`` shows about one plugin."""

    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]
    rubrics: tuple[str, ...] = ()
    scales: tuple[str, ...] = ()
    aggregators: tuple[str, ...] = ()


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


class Registry:
    """Scales, aggregators and rubrics by name, each with the plugin that provided it."""

    def __init__(self) -> None:
        self.scales: dict[str, Registered[Scale]] = {}
        self.aggregators: dict[str, Registered[Aggregator]] = {}
        self.rubrics: dict[str, Registered[Rubric]] = {}

    def _add(
        self, table: dict[str, Registered[Any]], kind: str, name: str, value: Any, plugin: str
    ) -> None:
        if not isinstance(name, str) or not name:
            raise PluginError(f"plugin {plugin!r} registered a {kind} without a name")
        if name in table:
            raise DuplicateNameError(
                f'{kind} "{name}" is registered twice: by plugin {table[name].plugin!r} '
                f"and by plugin {plugin!r}"
            )
        table[name] = Registered(value, plugin)

    def add_scale(self, scale: Scale, plugin: str) -> None:
        """Register a scale; a duplicate name raises DuplicateNameError naming both plugins."""
        if not isinstance(scale, Scale):
            raise PluginError(f"plugin {plugin!r} registered {scale!r}, expected a Scale")
        self._add(self.scales, "scale", scale.name, scale, plugin)

    def add_aggregator(self, agg: Aggregator, plugin: str) -> None:
        """Register an aggregator; a duplicate name raises DuplicateNameError."""
        if not isinstance(agg, Aggregator):
            raise PluginError(f"plugin {plugin!r} registered {agg!r}, expected an Aggregator")
        self._add(self.aggregators, "aggregator", agg.name, agg, plugin)

    def add_rubric(self, rubric: Rubric, plugin: str) -> None:
        """Register a rubric after checking its scale and aggregator names."""
        if not isinstance(rubric, Rubric):
            raise PluginError(f"plugin {plugin!r} registered {rubric!r}, expected a Rubric")
        problems = self.check(rubric)
        if problems:
            raise RubricError(
                [
                    attrs.evolve(
                        p, message=f'{p.message} (rubric "{rubric.id}" from plugin {plugin!r})'
                    )
                    for p in problems
                ]
            )
        self._add(self.rubrics, "rubric", rubric.id, rubric, plugin)

    def scale(self, name: str) -> Scale:
        """The scale ``name``; UnknownNameError (with a suggestion) if none."""
        if name not in self.scales:
            raise UnknownNameError(f'unknown scale "{name}"{_suggest(name, list(self.scales))}')
        return self.scales[name].value

    def aggregator(self, name: str) -> Aggregator:
        """The aggregator ``name``; UnknownNameError if none."""
        if name not in self.aggregators:
            raise UnknownNameError(
                f'unknown aggregator "{name}"{_suggest(name, list(self.aggregators))}'
            )
        return self.aggregators[name].value

    def rubric(self, rubric_id: str) -> Rubric:
        """The rubric ``rubric_id`` (or ``id:alternative``); UnknownNameError if none."""
        base, _, alt = rubric_id.partition(":")
        if alt and base in self.rubrics:
            return self.rubrics[base].value.with_alternative(alt)
        if rubric_id not in self.rubrics:
            known = ", ".join(sorted(self.rubrics)) or "none installed"
            raise UnknownNameError(
                Problem(
                    f'unknown rubric "{rubric_id}"{_suggest(rubric_id, list(self.rubrics))}; '
                    f"known: {known}",
                    expected="an installed rubric id",
                    found=f'"{rubric_id}"',
                )
            )
        return self.rubrics[rubric_id].value

    def check(self, rubric: Rubric) -> list[Problem]:
        """Problems with the scale and aggregator names (and scale parameters) of ``rubric``."""
        problems: list[Problem] = []
        for c in rubric.criteria:
            key = f'criterion "{c.id}"'
            if c.scale is not None:
                if c.scale.name not in self.scales:
                    problems.append(
                        Problem(
                            f'unknown scale "{c.scale.name}"'
                            f"{_suggest(c.scale.name, list(self.scales))}; known: "
                            + ", ".join(sorted(self.scales)),
                            key_path=f"{key}.scale",
                        )
                    )
                else:
                    for msg in self.scales[c.scale.name].value.check_params(c.scale):
                        problems.append(Problem(msg, key_path=f"{key}.scale"))
            i = rubric.tree.index[c.id]
            if (
                not rubric.tree.is_leaf(i)
                and c.rule in self.aggregators
                and self.aggregators[c.rule].value.additive
            ):
                problems.extend(_check_additive(rubric, i))
            if not rubric.tree.is_leaf(i) and c.rule not in self.aggregators:
                problems.append(
                    Problem(
                        f'unknown aggregator "{c.rule}"{_suggest(c.rule, list(self.aggregators))}; '
                        "known: " + ", ".join(sorted(self.aggregators)),
                        key_path=f"{key}.rule",
                    )
                )
        for level in ("institution", "unit"):
            name = rubric.levels.rule(level).combine
            if name not in self.aggregators:
                problems.append(
                    Problem(
                        f'unknown aggregator "{name}"{_suggest(name, list(self.aggregators))}',
                        key_path=f"levels.{level}.combine",
                    )
                )
            elif self.aggregators[name].value.needs_points or self.aggregators[name].value.additive:
                problems.append(
                    Problem(
                        f'aggregator "{name}" adds points; entities have no points — use "mean"',
                        key_path=f"levels.{level}.combine",
                    )
                )
        return problems


def _env_list(env: Mapping[str, str], key: str) -> list[str] | None:
    if key not in env:
        return None
    return [x.strip() for x in env[key].split(",") if x.strip()]


class PluginManager:
    """Loads plugins and builds the :class:`Registry` they provide.

    ``entrypoints=False`` skips the ``kepatuhan`` entry-point group (tests use it to start
    from the built-ins only); ``env`` defaults to ``os.environ``.
    """

    def __init__(self, *, entrypoints: bool = True, env: Mapping[str, str] | None = None) -> None:
        self.env = os.environ if env is None else env
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._dists: dict[str, tuple[str | None, str | None]] = {}
        self._registry: Registry | None = None
        self.register(builtin, BUILTIN)
        if entrypoints:
            self.load_entrypoints()
        self.check_pending()
        self.trace = bool(self.env.get("KEPATUHAN_TRACE_PLUGINS"))

    @property
    def hook(self) -> Any:
        """pluggy's hook relay: ``manager.hook.kepatuhan_select_units(...)``."""
        return self.pm.hook

    def register(self, plugin: object, name: str | None = None) -> str:
        """Register a plugin object (module or instance); returns its name."""
        try:
            got = self.pm.register(plugin, name=name)
        except ValueError as exc:
            raise PluginError(f"cannot register plugin {name or plugin!r}: {exc}") from None
        if got is None:
            raise PluginError(f"plugin {name!r} is blocked (KEPATUHAN_DISABLE_PLUGINS)")
        self._registry = None
        return got

    def unregister(self, name: str) -> None:
        """Remove the plugin ``name`` (its rubrics, scales and aggregators go with it)."""
        self.pm.unregister(name=name)
        self._registry = None

    def check_pending(self) -> None:
        """Fail on a hook implementation with no matching spec (a misspelt hook name)."""
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin {exc.plugin!r}: {exc}") from None

    def load_entrypoints(self) -> list[str]:
        """Load the ``kepatuhan`` entry points allowed by the environment; names loaded."""
        only = _env_list(self.env, "KEPATUHAN_LOAD_PLUGINS")
        disabled = set(_env_list(self.env, "KEPATUHAN_DISABLE_PLUGINS") or [])
        loaded: list[str] = []
        for ep in md.entry_points(group=hookspecs.PROJECT):
            if ep.name in disabled:
                self.pm.set_blocked(ep.name)
                continue
            if only is not None and ep.name not in only:
                continue
            if self.pm.get_plugin(ep.name) is not None:
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken plugin must not hide behind a traceback
                raise PluginError(
                    f"plugin {ep.name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}"
                ) from exc
            self.register(plugin, ep.name)
            dist = getattr(ep, "dist", None)
            self._dists[ep.name] = (
                getattr(dist, "name", None),
                getattr(dist, "version", None),
            )
            loaded.append(ep.name)
        return loaded

    @property
    def registry(self) -> Registry:
        """The registry (built on first use, rebuilt after register/unregister)."""
        if self._registry is None:
            self._registry = self._build_registry()
        return self._registry

    def call_each(
        self,
        hook_name: str,
        *,
        firstresult: bool = False,
        per_plugin: Callable[[str], dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> list[HookCall]:
        """Call a hook's implementations one by one, in pluggy's order, naming each plugin.

        Every call is timed; an exception that is not a KepatuhanError becomes a
        PluginError naming the plugin and the hook; with ``firstresult`` the calls stop
        at the first non-None result. ``per_plugin(name)`` adds arguments made for that
        plugin (the registration hooks' ``register``). ``KEPATUHAN_TRACE_PLUGINS`` prints
        each call.
        """
        impls = getattr(self.pm.hook, hook_name).get_hookimpls()
        if self.trace and not impls:
            sys.stderr.write(f"kepatuhan: {hook_name}: no plugin implements it\n")
        calls: list[HookCall] = []
        for impl in reversed(impls):
            name = impl.plugin_name
            args = {**kwargs, **(per_plugin(name) if per_plugin else {})}
            t0 = time.perf_counter()
            try:
                result = impl.function(**{k: args[k] for k in impl.argnames})
            except KepatuhanError:
                raise
            except Exception as exc:
                raise PluginError(
                    f"plugin {name!r} raised in {hook_name}: {type(exc).__name__}: {exc}"
                ) from exc
            seconds = time.perf_counter() - t0
            if self.trace:
                sys.stderr.write(
                    f"kepatuhan: {hook_name} of plugin {name!r}: {seconds:.4f} s -> "
                    f"{type(result).__name__}\n"
                )
            calls.append(HookCall(name, result, seconds))
            if firstresult and result is not None:
                break
        return calls

    def slow_calls(self, calls: list[HookCall], hook_name: str) -> list[Problem]:
        """Warnings for calls slower than ``KEPATUHAN_SLOW_PLUGIN_SECONDS`` (default 5)."""
        raw = self.env.get("KEPATUHAN_SLOW_PLUGIN_SECONDS", "5")
        try:
            limit = float(raw)
        except ValueError:
            limit = 5.0
        return [
            Problem(
                f"plugin {c.plugin!r} took {c.seconds:.3f} s in {hook_name} "
                f"(more than KEPATUHAN_SLOW_PLUGIN_SECONDS = {limit:g})"
            )
            for c in calls
            if c.seconds > limit
        ]

    def _collect(self, hook_name: str, add: Callable[[Any, str], None]) -> None:
        def register_for(plugin: str) -> dict[str, Any]:
            return {"register": lambda thing: add(thing, plugin)}

        self.call_each(hook_name, per_plugin=register_for)

    def _build_registry(self) -> Registry:
        reg = Registry()
        self._collect("kepatuhan_register_scales", reg.add_scale)
        self._collect("kepatuhan_register_aggregators", reg.add_aggregator)
        self._collect("kepatuhan_register_rubrics", reg.add_rubric)
        return reg

    def version_of(self, plugin_name: str) -> str | None:
        """The installed version of the distribution behind ``plugin_name``."""
        if plugin_name == BUILTIN:
            from . import __version__

            return __version__
        return self._dists.get(plugin_name, (None, None))[1]

    def plugins(self) -> list[PluginInfo]:
        """Every registered plugin, with its version and what it provides."""
        reg = self.registry
        out = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            dist, version = self._dists.get(name, (None, None))
            if name == BUILTIN:
                dist, version = "kepatuhan", self.version_of(BUILTIN)
            hooks = tuple(sorted(h.name for h in self.pm.get_hookcallers(plugin) or []))
            out.append(
                PluginInfo(
                    name=name,
                    distribution=dist,
                    version=version,
                    hooks=hooks,
                    rubrics=tuple(sorted(k for k, v in reg.rubrics.items() if v.plugin == name)),
                    scales=tuple(sorted(k for k, v in reg.scales.items() if v.plugin == name)),
                    aggregators=tuple(
                        sorted(k for k, v in reg.aggregators.items() if v.plugin == name)
                    ),
                )
            )
        return out

    def versions(self) -> dict[str, str | None]:
        """``{plugin name: version}`` of every registered plugin (for provenance)."""
        return {p.name: p.version for p in self.plugins()}


@functools.lru_cache(maxsize=1)
def default_manager() -> PluginManager:
    """The manager the module-level functions use: built-ins plus installed plugins."""
    return PluginManager()


def _check_additive(rubric: Rubric, i: int) -> list[Problem]:
    """Children of an additive node are points out of the parent's maximum, never ``na``."""
    tree = rubric.tree
    parent = tree.nodes[i]
    hi = parent.points if parent.points is not None else 100
    out = []
    for k in tree.children[i]:
        c = tree.nodes[k]
        key = f'criterion "{c.id}"'
        scale_max = dict(c.scale.params).get("max") if c.scale is not None else None
        if c.scale is None or c.scale.name != "points" or scale_max != hi:
            out.append(
                Problem(
                    f'"{parent.id}" adds its children up ("{parent.rule}"): each child is '
                    f"points out of the parent's {hi}",
                    key_path=f"{key}.scale",
                    expected=f'scale = {{ name = "points", max = {hi} }}',
                    found="no scale" if c.scale is None else f'scale "{c.scale.name}"',
                )
            )
        if c.na_allowed:
            out.append(
                Problem(
                    f'"{parent.id}" adds its children up: a child cannot be not applicable '
                    "(the split is unknown, nothing can renormalise)",
                    key_path=f"{key}.na_allowed",
                    expected="na_allowed = false",
                    found="na_allowed = true",
                )
            )
    return out
