defmodule Khepri.Evf do
  @moduledoc """
  Event filters, the Elixir face of `:khepri_evf`: what a trigger watches.

  A tree event filter is a path pattern plus properties (`:on_actions`, a list
  of `:create`, `:update` and `:delete`, all three when absent or empty;
  `:priority`, an integer, 0 by default):

      Khepri.Evf.tree("/:stock/:wood/*", %{on_actions: [:create], priority: 10})

  A bare path or pattern is accepted wherever an event filter is (see
  `wrap/1`).

  The `khepri_trigger/0,1,2` record macros (from `include/khepri.hrl`) build
  and match the argument a triggered stored procedure receives:

      require Khepri.Evf

      fn Khepri.Evf.khepri_trigger(trigger_id: id, event: %{path: path}) ->
        IO.inspect({id, path})
      end
  """

  require Record

  @header Path.expand("../../include/khepri.hrl", __DIR__)
  @external_resource @header

  Record.defrecord(:khepri_trigger, Record.extract(:khepri_trigger, from: @header))

  @typedoc "Any event filter (today, only tree event filters)."
  @type event_filter :: :khepri_evf.event_filter()

  @typedoc "A filter on changes to the nodes matching a path pattern."
  @type tree_event_filter :: :khepri_evf.tree_event_filter()

  @typedoc "Properties of a tree event filter: `:on_actions` and `:priority`."
  @type tree_event_filter_props :: :khepri_evf.tree_event_filter_props()

  @typedoc "Trigger priority: greater runs first; negative values allowed."
  @type priority :: :khepri_evf.priority()

  @doc """
  Builds a tree event filter with default properties. Same as `tree/2` with
  `%{}`.
  """
  @spec tree(Khepri.path()) :: tree_event_filter()
  defdelegate tree(path_pattern), to: :khepri_evf

  @doc """
  Builds a tree event filter from a native pattern or a Unix-like one (string
  or charlist).

  Raises `ErlangError` with `original: {:khepri_ex, :invalid_path, _}` for a
  bad pattern, `{:khepri_ex, :unsupported_condition, _}` for a data condition
  the engine cannot evaluate, and `{:khepri_ex, :invalid_option, %{option: k,
  value: v}}` for bad properties.
  """
  @spec tree(Khepri.path(), tree_event_filter_props()) :: tree_event_filter()
  defdelegate tree(path_pattern, props), to: :khepri_evf

  @doc """
  Returns an event filter as is; turns a path or pattern into a tree event
  filter with default properties (see `tree/1`).
  """
  @spec wrap(event_filter() | Khepri.path()) :: event_filter()
  defdelegate wrap(input), to: :khepri_evf

  @doc "Returns the priority of an event filter (0 unless set)."
  @spec get_priority(event_filter()) :: priority()
  defdelegate get_priority(event_filter), to: :khepri_evf

  @doc """
  Returns the event filter with its priority set; a non-integer raises
  `{:khepri_ex, :invalid_option, %{option: :priority, value: priority}}`.
  """
  @spec set_priority(event_filter(), priority()) :: event_filter()
  defdelegate set_priority(event_filter, priority), to: :khepri_evf
end
