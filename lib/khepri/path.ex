defmodule Khepri.Path do
  @moduledoc """
  Khepri paths, the Elixir face of `:khepri_path`.

  A native path is a list of atoms and binaries (node names) plus the special
  components `root/0` (`?/`), `this_node/0` (`?.`) and `parent_node/0` (`?^`).
  A pattern may also hold conditions (see `Khepri.Condition`), such as
  `star/0` and `star_star/0`.

  Unix-like paths are accepted too, as Elixir strings; the sigils parse them:

      import Khepri.Path, only: [sigil_p: 2]
      ~p"/:stock/:wood/oak"
      #=> [:stock, :wood, "oak"]

  `:name` is an atom, anything else a binary; `.`/`..` are `this_node/0` and
  `parent_node/0`; `*` and `**` are wildcards; `%XX` is percent-decoded.
  Every function returns the same terms as the `:khepri_path` function of the
  same name and arity.
  """

  # `to_string/1` below mirrors `:khepri_path.to_string/1`; Kernel's macro of
  # the same name must not be imported here.
  import Kernel, except: [to_string: 1]

  @type node_id :: :khepri_path.node_id()
  @type component :: :khepri_path.component()
  @type pattern_component :: :khepri_path.pattern_component()
  @type native_path :: :khepri_path.native_path()
  @type native_pattern :: :khepri_path.native_pattern()
  @type unix_path :: :khepri_path.unix_path()
  @type unix_pattern :: :khepri_path.unix_pattern()
  @type path :: :khepri_path.path()
  @type pattern :: :khepri_path.pattern()

  # -------------------------------------------------------------------
  # Special components and wildcards, usable in patterns and guards.
  # -------------------------------------------------------------------

  @doc "The root node marker, `?/` (`?KHEPRI_ROOT_NODE` in Erlang)."
  defmacro root, do: ?/

  @doc "The current node, `?.` (`?THIS_KHEPRI_NODE` in Erlang)."
  defmacro this_node, do: ?.

  @doc "The parent node, `?^` (`?PARENT_KHEPRI_NODE` in Erlang)."
  defmacro parent_node, do: ?^

  @doc """
  The `*` wildcard: any single node name (`?KHEPRI_WILDCARD_STAR` in Erlang,
  i.e. `if_name_matches(regex: :any)`).

  In a match, the record's `compiled` cache field is ignored, as with the
  Erlang record syntax.
  """
  defmacro star, do: wildcard(:if_name_matches, __CALLER__)

  @doc """
  The `**` wildcard: any number of levels, at least one
  (`?KHEPRI_WILDCARD_STAR_STAR` in Erlang, i.e. `if_path_matches(regex: :any)`).

  In a match, the record's `compiled` cache field is ignored.
  """
  defmacro star_star, do: wildcard(:if_path_matches, __CALLER__)

  defp wildcard(tag, caller) do
    compiled = if caller.context == :match, do: Macro.var(:_, nil), else: :undefined
    {:{}, [], [tag, :any, compiled]}
  end

  # -------------------------------------------------------------------
  # Sigils.
  # -------------------------------------------------------------------

  @doc """
  `~p"/:stock/:wood/oak"`: parses a Unix-like path after interpolation.

  Modifiers are ignored. Same as `from_string/1`.
  """
  @spec sigil_p(pattern(), charlist()) :: native_pattern()
  def sigil_p(pattern, modifiers), do: :khepri_path.sigil_p(pattern, modifiers)

  @doc """
  `~P"/:stock/:wood/oak"`: parses a Unix-like path without interpolation.

  Modifiers are ignored. Same as `from_string/1`.
  """
  @spec sigil_P(pattern(), charlist()) :: native_pattern()
  def sigil_P(pattern, modifiers), do: :khepri_path.sigil_P(pattern, modifiers)

  # -------------------------------------------------------------------
  # Mirrors of :khepri_path.
  # -------------------------------------------------------------------

  @doc """
  Converts a Unix-like path (binary or charlist) to a native pattern.

  A native pattern is returned unchanged (a leading `root/0` is dropped).
  Raises `ErlangError` with `original: {:khepri_ex, :invalid_path, %{path: p}}`
  (plus `component:` when one component is to blame) for anything else.
  """
  @spec from_string(pattern()) :: native_pattern()
  def from_string(pattern), do: :khepri_path.from_string(pattern)

  @doc "Same as `from_string/1`."
  @spec from_binary(pattern()) :: native_pattern()
  def from_binary(pattern), do: :khepri_path.from_binary(pattern)

  @doc """
  Converts a native path to a Unix-like path charlist (ASCII, percent-encoded).

  Raises `invalid_path` for a path holding a condition.
  """
  @spec to_string(native_path()) :: charlist()
  def to_string(path), do: :khepri_path.to_string(path)

  @doc "Converts a native path to a Unix-like path binary (Elixir string)."
  @spec to_binary(native_path()) :: binary()
  def to_binary(path), do: :khepri_path.to_binary(path)

  @doc """
  Replaces the last component `c` of a native pattern with
  `if_all(conditions: [c | conditions])`; with `conditions == []` the pattern
  is returned unchanged.
  """
  @spec combine_with_conditions(native_pattern(), [tuple()]) :: native_pattern()
  def combine_with_conditions(pattern, conditions),
    do: :khepri_path.combine_with_conditions(pattern, conditions)

  @doc """
  Returns `{true, native_path}` when every component of the pattern targets one
  node name (conditions stripped), `false` otherwise.
  """
  @spec targets_specific_node(native_pattern()) :: {true, native_path()} | false
  def targets_specific_node(pattern), do: :khepri_path.targets_specific_node(pattern)

  @doc """
  Returns `{true, name}` when the pattern component can only match that name,
  `false` otherwise.
  """
  @spec component_targets_specific_node(pattern_component()) :: {true, component()} | false
  def component_targets_specific_node(component),
    do: :khepri_path.component_targets_specific_node(component)

  @doc """
  Returns `{true, names}` (sorted, without duplicates) when the pattern
  component can only match those names, `false` otherwise.
  """
  @spec component_targets_specific_siblings(pattern_component()) ::
          {true, [component()]} | false
  def component_targets_specific_siblings(component),
    do: :khepri_path.component_targets_specific_siblings(component)

  @doc """
  Returns `true` if the native pattern is well formed, `{false, component}` for
  its first invalid component (`{false, arg}` when `arg` is not a list).
  """
  @spec is_valid(native_pattern()) :: true | {false, term()}
  def is_valid(pattern), do: :khepri_path.is_valid(pattern)

  @doc """
  Returns `true` if one pattern component is well formed, `{false, culprit}`
  otherwise.
  """
  @spec is_valid_component(term()) :: true | {false, term()}
  def is_valid_component(component), do: :khepri_path.is_valid_component(component)

  @doc "Returns `:ok` or raises `invalid_path` with `path` and `component`."
  @spec ensure_is_valid(native_pattern()) :: :ok
  def ensure_is_valid(pattern), do: :khepri_path.ensure_is_valid(pattern)

  @doc """
  Makes a relative native pattern (starting with `this_node/0` or
  `parent_node/0`) absolute against `base`; other patterns are returned as is.
  """
  @spec abspath(native_pattern(), native_pattern()) :: native_pattern()
  def abspath(pattern, base), do: :khepri_path.abspath(pattern, base)

  @doc """
  Resolves `root/0` (restart at the root), `this_node/0` (dropped) and
  `parent_node/0` (pop, staying at the root) in a native pattern.
  """
  @spec realpath(native_pattern()) :: native_pattern()
  def realpath(pattern), do: :khepri_path.realpath(pattern)

  @doc "Returns `true` when `realpath/1` reduces the pattern to the root (`[]`)."
  @spec pattern_includes_root_node(native_pattern()) :: boolean()
  def pattern_includes_root_node(pattern),
    do: :khepri_path.pattern_includes_root_node(pattern)

  @doc """
  Internal: prepares a native pattern's conditions for repeated evaluation.
  """
  @spec compile(native_pattern()) :: native_pattern()
  def compile(pattern), do: :khepri_path.compile(pattern)
end
