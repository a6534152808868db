defmodule Khepri.Projection do
  @moduledoc """
  Projections, the Elixir face of `:khepri_projection`: ETS tables kept in
  sync with the nodes matching a pattern.

  `new/2,3` only describe a projection; `Khepri.register_projection/3,4`
  makes every member create and fill its table(s). The projection function is
  one of:

    * `:copy` - the node's data (a tuple) is the ETS record;
    * `fn path, data -> record end` - the record stored for a node with data;
    * `fn tid_or_tids, path, old_props, new_props -> _ end` - manages the
      table(s) itself (the only kind allowed several tables, with `:tables`).

  Options are ETS options (`:type`, `:keypos`, `:read_concurrency`,
  `:write_concurrency`, `:compressed`, `:protection`, `:protected` by
  default), `:tables` (per-table overrides) and `:standalone_fun_options`
  (ignored). Funs are stored as they are: their module must be loaded on every
  member.

      projection = Khepri.Projection.new(:users, :copy, %{keypos: 2})
      :ok = Khepri.register_projection(:my_store, "/:users/*", projection)
      :ets.lookup(:users, "alice")
  """

  @typedoc "The name of a projection (and of its table, for a single table)."
  @type name :: :khepri_projection.name()

  @typedoc "A projection, as returned by `new/3`."
  @type projection :: :khepri_projection.projection()

  @typedoc "`:copy`, a 2-arity simple fun or a 4-arity extended fun."
  @type projection_fun :: :khepri_projection.projection_fun()

  @typedoc "The options map of `new/3`."
  @type options :: :khepri_projection.options()

  @doc "Describes a projection with default options. Same as `new/3` with `%{}`."
  @spec new(name(), projection_fun()) :: projection()
  defdelegate new(name, projection_fun), to: :khepri_projection

  @doc """
  Describes a projection.

  Raises `ErlangError` with `original: {:khepri_ex, name, props}` on misuse:
  `:multi_table_projection_incompatible_with_copy_func` or
  `:multi_table_projection_incompatible_with_simple_func` (props `:name`,
  `:projection_fun`, `:options`) when `:tables` is given with `:copy` or a
  simple fun; `:unexpected_projection_option` (props `:name` - the option -
  and `:value`) for an unknown option or a bad value, including a `:type`
  other than `:set` or `:ordered_set` for a simple fun.
  """
  @spec new(name(), projection_fun(), options()) :: projection()
  defdelegate new(name, projection_fun, options), to: :khepri_projection

  @doc "Returns the name of a projection."
  @spec name(projection()) :: name()
  defdelegate name(projection), to: :khepri_projection
end
