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

import contextvars
import functools
import importlib.metadata as md
import os
import sys
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any, Generic, TypeVar

import attrs
import pluggy

from . import builtin, hookspecs
from .aggregators import Aggregator, rule_arguments
from .errors import (
    DuplicateNameError,
    KepatuhanError,
    PluginError,
    Problem,
    RubricError,
    UnknownNameError,
    suggest,
)
from .records import PublishedRecord
from .rubric import CriterionTree, Levels, Rubric, RuleRef
from .scales import Scale

__all__ = [
    "BUILTIN",
    "HookCall",
    "PluginInfo",
    "PluginManager",
    "Registered",
    "Registry",
    "default_manager",
    "installed_rubric",
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


class Registry:
    """Scales, aggregators and rubrics by name, each with the plugin that provided it."""

    def __init__(self) -> None:
        self.scales: dict[str, Registered[Scale]] = {}
        self.aggregators: dict[str, Registered[Aggregator]] = {}
        self.rubrics: dict[str, Registered[Rubric]] = {}
        #: Published figures, in the order plugins registered them (each names its plugin).
        self.records: list[PublishedRecord] = []
        #: Broken plugins, ``{plugin name: error}``: they failed to load or to register,
        #: and nothing of theirs is in this registry.
        self.broken: dict[str, str] = {}
        #: Rubric ids a broken plugin offered before it failed, ``{rubric id: plugin}``.
        self.orphans: dict[str, str] = {}

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

    def add_record(self, record: PublishedRecord, plugin: str) -> None:
        """Register a published figure, remembering which plugin gave it."""
        if not isinstance(record, PublishedRecord):
            raise PluginError(
                f"plugin {plugin!r} registered {record!r}, expected a PublishedRecord"
            )
        self.records.append(attrs.evolve(record, plugin=plugin))

    def scale(self, name: str) -> Scale:
        """The scale ``name``; UnknownNameError (with a suggestion) if none."""
        if name not in self.scales:
            raise UnknownNameError(f'unknown scale "{name}"{suggest(name, list(self.scales))}')
        return self.scales[name].value

    def aggregator(self, name: str) -> Aggregator:
        """The aggregator ``name``; UnknownNameError if none."""
        if name not in self.aggregators:
            raise UnknownNameError(
                f'unknown aggregator "{name}"{suggest(name, list(self.aggregators))}'
            )
        return self.aggregators[name].value

    def rule(self, ref: RuleRef) -> Aggregator:
        """The aggregator a rubric's ``rule`` / ``combine`` names, configured with its
        parameters (:meth:`Aggregator.with_params`); UnknownNameError or RubricError."""
        return self.aggregator(ref.name).with_params(**rule_arguments(ref))

    def rubric(self, rubric_id: str) -> Rubric:
        """The rubric ``rubric_id`` (or ``id:alternative``).

        UnknownNameError if no plugin provides it; PluginError carrying the plugin's error
        if it belongs to a broken plugin, or if it is unknown while some plugin is broken
        (a plugin that failed to load may be the one that provides it).
        """
        base, _, alt = rubric_id.partition(":")
        if alt and base in self.rubrics:
            return self.rubrics[base].value.with_alternative(alt)
        if rubric_id in self.rubrics:
            return self.rubrics[rubric_id].value
        owner = self.orphans.get(rubric_id, self.orphans.get(base))
        if owner is not None:
            raise PluginError(
                Problem(
                    f'rubric "{rubric_id}" comes from plugin {owner!r}, which is broken '
                    f"(its other rubrics cannot be used either): {self.broken[owner]}",
                    expected="a rubric of a working plugin",
                    found=f'"{rubric_id}"',
                )
            )
        known = ", ".join(sorted(self.rubrics)) or "none installed"
        message = f'unknown rubric "{rubric_id}"{suggest(rubric_id, self.rubrics)}; known: {known}'
        if self.broken:
            raise PluginError(
                Problem(
                    message
                    + "; a broken plugin may provide it: "
                    + " | ".join(e for _, e in sorted(self.broken.items())),
                    expected="an installed rubric id",
                    found=f'"{rubric_id}"',
                )
            )
        raise UnknownNameError(
            Problem(message, expected="an installed rubric id", found=f'"{rubric_id}"')
        )

    def check(self, rubric: Rubric) -> list[Problem]:
        """Problems with the scale and aggregator names (and scale parameters) of ``rubric``.

        One pass over the criteria with the rubric's tree fetched once: linear in criteria.
        """
        return self.check_tree(rubric.tree, rubric.levels)

    def check_tree(self, tree: CriterionTree, levels: Levels) -> list[Problem]:
        """:meth:`check` for a criterion tree and roll-up rules that are not (yet) a valid
        rubric: ``validate`` reports an unknown scale beside the rubric's other problems."""
        problems: list[Problem] = []
        for i, c in enumerate(tree.nodes):
            key = f'criterion "{c.id}"'
            if c.scale is not None:
                if c.scale.name not in self.scales:
                    problems.append(
                        Problem(
                            f'unknown scale "{c.scale.name}"'
                            f"{suggest(c.scale.name, self.scales)}; known: "
                            + ", ".join(sorted(self.scales)),
                            key_path=f"{key}.scale",
                        )
                    )
                else:
                    for msg in self.scales[c.scale.name].value.check_params(c.scale):
                        problems.append(Problem(msg, key_path=f"{key}.scale"))
            if tree.is_leaf(i):
                continue
            name = c.rule.name
            if name not in self.aggregators:
                problems.append(
                    Problem(
                        f'unknown aggregator "{name}"{suggest(name, self.aggregators)}; '
                        "known: " + ", ".join(sorted(self.aggregators)),
                        key_path=f"{key}.rule",
                    )
                )
                continue
            problems.extend(self._rule_params(c.rule, f"{key}.rule"))
            if self.aggregators[name].value.additive:
                problems.extend(_check_additive(tree, i))
        for level in ("institution", "unit"):
            ref = levels.rule(level).combine
            name = ref.name
            if name not in self.aggregators:
                problems.append(
                    Problem(
                        f'unknown aggregator "{name}"{suggest(name, list(self.aggregators))}',
                        key_path=f"levels.{level}.combine",
                    )
                )
                continue
            problems.extend(self._rule_params(ref, f"levels.{level}.combine"))
            if self.aggregators[name].value.needs_points or self.aggregators[name].value.additive:
                problems.append(
                    Problem(
                        f'aggregator "{name}" adds points; entities have no points — use "mean"',
                        key_path=f"levels.{level}.combine",
                    )
                )
        return problems

    def _rule_params(self, ref: RuleRef, key: str) -> list[Problem]:
        """The problems of a rule's parameters, located under ``key`` (``….rule.penalty``)."""
        agg = self.aggregators[ref.name].value
        try:
            found = agg.check_params(ref.as_dict())
        except Exception as exc:  # a plugin's check that raises is that plugin's error
            plugin = self.aggregators[ref.name].plugin
            raise PluginError(
                f'aggregator "{ref.name}" of plugin {plugin!r} raised {type(exc).__name__} '
                f"checking its parameters: {exc}"
            ) from exc
        return [
            attrs.evolve(p, key_path=f"{key}.{p.key_path}" if p.key_path else key) for p in found
        ]


#: While a manager builds its registry: how a registration hook reaches an installed rubric
#: (see :func:`installed_rubric`). Unset otherwise.
_BUILDING: contextvars.ContextVar[Callable[[str], Rubric] | None] = contextvars.ContextVar(
    "kepatuhan_building_registry", default=None
)


def installed_rubric(rubric_id: str, *, plugins: PluginManager | None = None) -> Rubric:
    """The installed rubric ``rubric_id`` (or ``id:alternative``), also from inside a hook.

    Outside the registration hooks this is ``plugins.registry.rubric(rubric_id)`` (the
    default manager when ``plugins`` is None). Inside a ``kepatuhan_register_rubrics``
    hook — while the registry is being built, when asking the registry would build it again
    — it asks the manager that is building: a rubric already registered is returned, else
    the plugins whose hooks have not run yet are called first (each still once) until one
    provides it. :func:`kepatuhan.get_rubric`, :func:`kepatuhan.load_rubric` (for
    ``extends = "ID"``) and the hook's ``installed`` argument all come here.
    """
    building = _BUILDING.get()
    if building is not None and (plugins is None or plugins._lookup is building):
        return building(rubric_id)
    return (plugins or default_manager()).registry.rubric(rubric_id)


#: The hooks that build the registry; the others run with the registry already built.
_REGISTRATION = (
    "kepatuhan_register_scales",
    "kepatuhan_register_aggregators",
    "kepatuhan_register_rubrics",
    "kepatuhan_register_records",
)


def _call(impl: pluggy.HookImpl, args: dict[str, Any], hook_name: str) -> Any:
    """One implementation, called with its own arguments; its exception named."""
    try:
        return impl.function(**{k: args[k] for k in impl.argnames})
    except KepatuhanError:
        raise
    except Exception as exc:
        raise PluginError(
            f"plugin {impl.plugin_name!r} raised in {hook_name}: {type(exc).__name__}: {exc}"
        ) from exc


def _one_line(text: str) -> str:
    """An error as one line (a rubric's several problems joined by ``; ``), for
    ``kepatuhan plugins`` and for the message of a command on a broken plugin's rubric."""
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


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
        self.trace = bool(self.env.get("KEPATUHAN_TRACE_PLUGINS"))
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._dists: dict[str, tuple[str | None, str | None]] = {}
        self._registry: Registry | None = None
        # Entry points that failed to load or to register, {name: error}; kept across
        # rebuilds of the registry (the registry adds the plugins that fail to register).
        self._load_errors: dict[str, str] = {}
        # Plugins skipped while a registry is being built (they raised in an earlier pass).
        self._failing: dict[str, str] = {}
        # While the registry is built: the on-demand rubric lookup (installed_rubric).
        self._lookup: Callable[[str], Rubric] | None = None
        self.register(builtin, BUILTIN)
        if entrypoints:
            self.load_entrypoints()
        self.check_pending()

    @property
    def hook(self) -> Any:
        """pluggy's hook relay: ``manager.hook.kepatuhan_select_units(...)``."""
        return self.pm.hook

    def register(self, plugin: object, name: str | None = None) -> str:
        """Register a plugin object (module or instance); returns its name.

        A hook implementation marked ``wrapper=True`` or ``hookwrapper=True`` is refused
        with a PluginError naming the plugin and the hook: kepatuhan calls every
        implementation itself, once, and a wrapper would hand it a generator instead of
        an answer.
        """
        try:
            got = self.pm.register(plugin, name=name)
        except ValueError as exc:
            raise PluginError(f"cannot register plugin {name or plugin!r}: {exc}") from None
        if got is None:
            raise PluginError(f"plugin {name!r} is blocked (KEPATUHAN_DISABLE_PLUGINS)")
        wrappers = sorted(
            caller.name
            for caller in self.pm.get_hookcallers(plugin) or []
            if any(
                impl.plugin is plugin and (impl.wrapper or impl.hookwrapper)
                for impl in caller.get_hookimpls()
            )
        )
        if wrappers:
            self.pm.unregister(plugin)
            raise PluginError(
                f"plugin {got!r}: {', '.join(wrappers)} is marked as a wrapper "
                "(wrapper=True or hookwrapper=True); kepatuhan calls each hook implementation "
                "once and does not support wrappers — use a plain @hookimpl"
            )
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
        """Load the ``kepatuhan`` entry points allowed by the environment; names loaded.

        An entry point that fails to import, is refused at registration or has a misspelt
        hook is not loaded: it is recorded in :attr:`broken` with its error, and every
        other plugin works as usual.
        """
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
            error = self._load_one(ep)
            if error is not None:
                self._load_errors[ep.name] = error
                self._registry = None
                continue
            loaded.append(ep.name)
        return loaded

    def _load_one(self, ep: md.EntryPoint) -> str | None:
        """Import and register one entry point; its error as one line if it is broken."""
        dist = getattr(ep, "dist", None)
        self._dists[ep.name] = (getattr(dist, "name", None), getattr(dist, "version", None))
        name, version = self._dists[ep.name]
        who = f"plugin {ep.name!r}" + (
            f" ({name}{' ' + version if version else ''})" if name else ""
        )
        try:
            plugin = ep.load()
        except Exception as exc:  # any import-time failure of third-party code
            return _one_line(
                f"{who} failed to load: importing {ep.value} raised {type(exc).__name__}: {exc}"
            )
        try:
            self.register(plugin, ep.name)
        except PluginError as exc:
            return _one_line(f"{who} failed to load: refused at registration: {exc}")
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(name=ep.name)
            return _one_line(f"{who} failed to load: refused at registration: {exc}")
        return None

    @property
    def registry(self) -> Registry:
        """The registry (built on first use, rebuilt after register/unregister)."""
        if self._registry is None:
            self._registry = self._build_registry()
        return self._registry

    @property
    def broken(self) -> dict[str, str]:
        """Plugins that failed to load or to register, ``{plugin name: error}``.

        Each error is one line that starts with the plugin's name (``plugin 'foo'
        (kepatuhan-foo 1.0) failed to load: …``). A broken plugin contributes nothing and
        none of its hooks is called; asking for one of its rubrics raises a PluginError
        carrying the error.
        """
        return dict(self.registry.broken)

    def distribution_of(self, plugin_name: str) -> str | None:
        """The distribution an entry-point plugin came from (working or broken), if known."""
        if plugin_name == BUILTIN:
            return "kepatuhan"
        return self._dists.get(plugin_name, (None, None))[0]

    def call_each(
        self,
        hook_name: str,
        *,
        per_plugin: Callable[[str], dict[str, Any]] | None = None,
        on_error: Callable[[str, KepatuhanError], None] | None = None,
        only: Collection[str] | None = None,
        **kwargs: Any,
    ) -> list[HookCall]:
        """Call a hook's implementations one by one, in pluggy's order, naming each plugin.

        The one way kepatuhan calls a hook. Whether the first non-None result ends the
        calls is read from the hook's spec (``firstresult`` in :mod:`kepatuhan.hookspecs`),
        never chosen by the caller. Every call is timed; an exception that is not a
        KepatuhanError becomes a PluginError naming the plugin and the hook, and is
        raised — or, with ``on_error``, handed to ``on_error(plugin, error)`` and the
        next plugin is called. ``per_plugin(name)`` adds arguments made for that plugin
        (the registration hooks' ``register``). Broken plugins are skipped; with ``only``,
        so are the plugins it does not name.
        ``KEPATUHAN_TRACE_PLUGINS`` prints each call.
        """
        caller = getattr(self.pm.hook, hook_name, None)
        if caller is None or caller.spec is None:
            raise PluginError(f"no hook named {hook_name!r} in kepatuhan.hookspecs")
        firstresult = bool(caller.spec.opts.get("firstresult", False))
        # Accepted for callers written before the spec decided; a contradiction is a bug.
        stated = kwargs.pop("firstresult", None)
        if stated is not None and bool(stated) != firstresult:
            raise TypeError(f"{hook_name}: firstresult is {firstresult} in its hookspec")
        skip = self._failing if hook_name in _REGISTRATION else self.registry.broken
        impls = [
            i
            for i in caller.get_hookimpls()
            if i.plugin_name not in skip and (only is None or i.plugin_name in only)
        ]
        if self.trace and not impls:
            sys.stderr.write(f"kepatuhan: {hook_name}: no plugin implements it\n")
        calls: list[HookCall] = []
        for impl in reversed(impls):
            name = impl.plugin_name
            args = {**kwargs, **(per_plugin(name) if per_plugin else {})}
            t0 = time.perf_counter()
            try:
                result = _call(impl, args, hook_name)
            except KepatuhanError as exc:
                if on_error is None:
                    raise
                on_error(name, exc)
                continue
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

    def _collect(
        self,
        hook_name: str,
        add: Callable[[Any, str], None],
        failed: dict[str, str],
        offered: dict[str, str],
        only: Collection[str] | None = None,
    ) -> None:
        """Call one registration hook; a plugin that raises goes into ``failed``."""

        def register_for(plugin: str) -> dict[str, Any]:
            def register(thing: Any) -> None:
                if isinstance(thing, Rubric):  # remembered, so asking for it names the error
                    offered.setdefault(thing.id, plugin)
                add(thing, plugin)

            return {"register": register, "installed": installed_rubric}

        def on_error(plugin: str, exc: KepatuhanError) -> None:
            if isinstance(exc, DuplicateNameError):
                raise exc  # which of two providers is meant cannot be guessed: stop
            text = _one_line(str(exc))
            if not text.startswith(f"plugin {plugin!r}"):
                text = f"plugin {plugin!r} failed to register: {text}"
            failed.setdefault(plugin, text)

        self.call_each(hook_name, per_plugin=register_for, on_error=on_error, only=only)

    def _collect_rubrics(
        self, reg: Registry, failed: dict[str, str], offered: dict[str, str]
    ) -> None:
        """Call ``kepatuhan_register_rubrics`` of every plugin, each once, in pluggy's order —
        except that a hook asking for a rubric not registered yet (a rubric derived from
        another plugin's edition) first has the hooks that have not run yet called, until
        one provides it. So a plugin may derive from any installed edition, whatever the
        order the plugins load in, and nothing builds the registry twice."""
        hook = "kepatuhan_register_rubrics"
        caller = self.pm.hook.kepatuhan_register_rubrics
        order = [
            i.plugin_name
            for i in reversed(caller.get_hookimpls())
            if i.plugin_name not in self._failing
        ]
        pending = dict.fromkeys(order, True)

        def run(name: str) -> None:
            pending[name] = False
            self._collect(hook, reg.add_rubric, failed, offered, only=(name,))

        def lookup(rubric_id: str) -> Rubric:
            base = rubric_id.partition(":")[0]
            for name in order:
                if base in reg.rubrics:
                    break
                if pending[name]:
                    run(name)
            if base not in reg.rubrics:
                owner = offered.get(base)
                if owner is not None and owner in failed:
                    raise PluginError(
                        Problem(
                            f'rubric "{rubric_id}" comes from plugin {owner!r}, which is '
                            f"broken: {failed[owner]}",
                            expected="a rubric of a working plugin",
                            found=f'"{rubric_id}"',
                        )
                    )
                known = ", ".join(sorted(reg.rubrics)) or "none installed"
                broken = {**self._failing, **failed}
                raise UnknownNameError(
                    Problem(
                        f'unknown rubric "{rubric_id}"{suggest(rubric_id, reg.rubrics)}; '
                        f"known: {known} (inside a registration hook a rubric can use "
                        "another plugin's rubric, or one its own hook registered before)"
                        + (
                            "; a broken plugin may provide it: "
                            + "; ".join(f"{p!r}: {e}" for p, e in sorted(broken.items()))
                            if broken
                            else ""
                        ),
                        expected="an installed rubric id",
                        found=f'"{rubric_id}"',
                    )
                )
            return reg.rubric(rubric_id)

        self._lookup = lookup
        token = _BUILDING.set(lookup)
        try:
            for name in order:
                if pending[name]:
                    run(name)
        finally:
            _BUILDING.reset(token)
            self._lookup = None

    def _build_registry(self) -> Registry:
        """Scales, then aggregators, then rubrics, from every working plugin.

        A plugin that raises is marked broken and the registry is built again without it,
        so nothing it registered before failing (nor a rubric that needed its scales)
        stays half in; the passes end because each one adds a broken plugin or succeeds.
        """
        failed: dict[str, str] = {}
        offered: dict[str, str] = {}

        def too_early(rubric_id: str) -> Rubric:
            raise PluginError(
                f'rubric "{rubric_id}" asked for before rubrics are registered '
                "(scales and aggregators are registered first)"
            )

        token = _BUILDING.set(too_early)  # never the registry itself: it is being built
        try:
            while True:
                self._failing = {**self._load_errors, **failed}
                before = len(failed)
                reg = Registry()
                self._collect("kepatuhan_register_scales", reg.add_scale, failed, offered)
                self._collect("kepatuhan_register_aggregators", reg.add_aggregator, failed, offered)
                self._collect_rubrics(reg, failed, offered)
                after = _BUILDING.set(reg.rubric)
                try:
                    self._collect("kepatuhan_register_records", reg.add_record, failed, offered)
                finally:
                    _BUILDING.reset(after)
                if len(failed) == before:
                    break
        finally:
            self._failing = {}
            _BUILDING.reset(token)
        reg.broken = {**self._load_errors, **failed}
        reg.orphans = {
            rid: plugin
            for rid, plugin in offered.items()
            if plugin in reg.broken and rid not in reg.rubrics
        }
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


def _check_additive(tree: CriterionTree, i: int) -> list[Problem]:
    """Children of an additive node are points out of the parent's maximum, never ``na``."""
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
        if c.not_applicable_for is not None:
            out.append(
                Problem(
                    f'"{parent.id}" adds its children up: a child cannot be not applicable '
                    "by a not_applicable_for rule (the split is unknown, nothing can "
                    "renormalise); put the rule on the parent",
                    key_path=f"{key}.not_applicable_for",
                    expected="no not_applicable_for",
                    found="a not_applicable_for rule",
                )
            )
    return out
