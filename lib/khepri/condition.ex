defmodule Khepri.Condition do
  @moduledoc """
  Path conditions, the Elixir face of `:khepri_condition`.

  Each condition record of `include/khepri.hrl` has a record macro here, with
  the same fields and defaults (they are read from the header at compile
  time, so the two cannot drift apart):

      require Khepri.Condition
      import Khepri.Condition

      [:stock, if_name_matches(regex: "^oak"), if_has_data()]
      if_node_exists(exists: false)
      if_all(conditions: [:wood, if_child_list_length(count: {:gt, 0})])

  A bare atom or binary inside `if_all/1`, `if_any/1` or `if_not/1` means
  "the node's name equals this".

  The functions below mirror those of `:khepri_condition` (same names,
  arguments and return values).
  """

  require Record

  @header Path.expand("../../include/khepri.hrl", __DIR__)
  @external_resource @header

  @records [
    :if_name_matches,
    :if_path_matches,
    :if_has_payload,
    :if_has_data,
    :if_has_sproc,
    :if_data_matches,
    :if_node_exists,
    :if_payload_version,
    :if_child_list_version,
    :if_child_list_length,
    :if_not,
    :if_all,
    :if_any
  ]

  for name <- @records do
    Record.defrecord(name, Record.extract(name, from: @header))
  end

  @typedoc "Any of the 13 condition records."
  @type condition :: :khepri_condition.condition()

  @typedoc "`{op, value}` with `op` one of `:eq`, `:ne`, `:lt`, `:le`, `:gt`, `:ge`."
  @type comparison_op(type) :: :khepri_condition.comparison_op(type)

  @typedoc "The `:keep_while` put option: `%{path => condition}`."
  @type keep_while :: :khepri_condition.keep_while()

  @typedoc "A `keep_while/0` map whose keys are native paths."
  @type native_keep_while :: :khepri_condition.native_keep_while()

  @doc """
  Parses the keys of a `:keep_while` map into native paths (they stay
  relative).

  Raises `ErlangError` with `original: {:khepri_ex, :invalid_path, _}` for a
  bad key, `{:khepri_ex, :invalid_option, %{option: :keep_while, value: map}}`
  for an invalid condition or a non-map, and `{:khepri_ex,
  :unsupported_condition, _}` for a data condition the engine cannot
  evaluate.
  """
  @spec ensure_native_keep_while(keep_while()) :: native_keep_while()
  defdelegate ensure_native_keep_while(keep_while), to: :khepri_condition

  @doc """
  Fills the `compiled` caches of a condition (regexes, match specs),
  recursively; never raises. The result is only valid in this VM.
  """
  @spec compile(term()) :: term()
  defdelegate compile(condition), to: :khepri_condition

  @doc """
  Returns `true` for `if_path_matches/1` and for compositions containing one:
  such a component is also tried on descendants.
  """
  @spec applies_to_grandchildren(term()) :: boolean()
  defdelegate applies_to_grandchildren(condition), to: :khepri_condition

  @doc """
  Evaluates a condition on an existing node, given its path (or name) and its
  node props.

  Returns `true`, `{false, failed_condition}`, or `{false, {condition,
  detail}}` when evaluation itself failed (for instance an invalid regex).

  ## Example

      require Khepri.Condition
      true = Khepri.Condition.is_met(Khepri.Condition.if_has_data(), [:stock], %{data: 1})
  """
  @spec is_met(term(), :khepri_path.native_path() | :khepri_path.node_id(), map()) ::
          true | {false, term()}
  defdelegate is_met(condition, path_or_name, node_props), to: :khepri_condition

  @doc "Returns `true` if the condition is well formed, `{false, culprit}` otherwise."
  @spec is_valid(term()) :: true | {false, term()}
  defdelegate is_valid(condition), to: :khepri_condition

  @doc """
  Returns `:ok` unless a condition (or pattern) holds an `if_data_matches/1`
  the engine cannot evaluate: guards calling `self()`, `node()` or `get_tcw`,
  or a match spec ETS refuses. Raises `{:khepri_ex, :unsupported_condition,
  %{condition: c, reason: r}}` then.
  """
  @spec validate_data_matches(term()) :: :ok
  defdelegate validate_data_matches(condition_or_pattern), to: :khepri_condition
end
