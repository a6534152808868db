defmodule Khepri.Tx do
  @moduledoc """
  The Khepri API inside transaction functions, the Elixir face of
  `:khepri_tx`.

  These functions only work in a function run by `Khepri.transaction/1..5`
  (and in the process running it): called anywhere else, every function but
  `is_transaction/0` and `does_api_comply_with/1` raises an `ErlangError`
  whose `original` is `{:khepri_ex,
  :invalid_use_of_khepri_tx_outside_transaction, %{}}`.

  They are the queries and writes of `Khepri` without the store id (the
  store is the transaction's) and with the same arguments, return values
  and errors, on the transaction's snapshot of the tree: reads see the
  transaction's own earlier writes, and writes are only committed, all
  together, when the function returns. There are no bang variants. Options
  are the tree and put options (`:props_to_return`, `:keep_while`, ...);
  command and query options (`:timeout`, `:async`, `:favor`) belong to
  `Khepri.transaction/5` and are ignored here. `Khepri.TxAdv` gives the same
  calls with detailed results.

  In a `:ro` transaction, every write raises `{:khepri_ex,
  :denied_update_in_readonly_tx, %{}}`.

  The function may run more than once (when its writes conflict with
  another write it is run again on a fresh snapshot), so apart from these
  calls it should have no side effects.

  ## Example

      import Khepri.Path, only: [sigil_p: 2]

      {:ok, :moved} =
        Khepri.transaction(:my_store, fn ->
          case Khepri.Tx.get(~p"/:stock/:wood/oak") do
            {:ok, n} when n >= 10 ->
              :ok = Khepri.Tx.put(~p"/:stock/:wood/oak", n - 10)
              {:ok, m} = Khepri.Tx.get_or(~p"/:shop/:wood/oak", 0)
              :ok = Khepri.Tx.put(~p"/:shop/:wood/oak", m + 10)
              :moved

            _ ->
              Khepri.Tx.abort(:out_of_stock)
          end
        end)
  """

  @typedoc "A native path or pattern, or a Unix-like path string."
  @type path :: Khepri.path()

  @typedoc "Any term to store (a function is stored as a stored procedure)."
  @type data :: Khepri.data()

  @typedoc "The tree and put options (`:props_to_return`, `:keep_while`, ...)."
  @type options :: Khepri.options()

  @typedoc "`{:error, reason}` as in `Khepri`."
  @type error :: Khepri.error()

  # -------------------------------------------------------------------
  # Queries.
  # -------------------------------------------------------------------

  @doc """
  Whether the root node has no child. Same as `is_empty/1`.

  ## Example

      true = Khepri.Tx.is_empty()
  """
  @spec is_empty() :: boolean() | error()
  defdelegate is_empty(), to: :khepri_tx

  @doc """
  Whether the root node has no child, in the transaction's tree (see
  `Khepri.is_empty/2`).

  ## Example

      :ok = Khepri.Tx.put(~p"/:fruit", :pear)
      false = Khepri.Tx.is_empty(%{})
  """
  @spec is_empty(options()) :: boolean() | error()
  defdelegate is_empty(options), to: :khepri_tx

  @doc """
  Reads the payload of one node. Same as `get/2`.

  ## Example

      {:ok, 150} = Khepri.Tx.get(~p"/:stock/:wood/oak")
  """
  @spec get(path()) :: {:ok, data()} | error()
  defdelegate get(path), to: :khepri_tx

  @doc """
  Reads the payload of the node at `path` (see `Khepri.get/3`).

  Returns `{:ok, data}` (`{:ok, :undefined}` for a node without payload),
  `{:error, {:khepri, :node_not_found, props}}` for a missing node; raises
  `possibly_matching_many_nodes_denied` for a pattern.

  ## Example

      :ok = Khepri.Tx.put(~p"/:stock/:wood/oak", 150)
      {:ok, 150} = Khepri.Tx.get(~p"/:stock/:wood/oak", %{})
  """
  @spec get(path(), options()) :: {:ok, data()} | error()
  defdelegate get(path, options), to: :khepri_tx

  @doc """
  Reads one node, or `default`. Same as `get_or/3`.

  ## Example

      {:ok, 0} = Khepri.Tx.get_or(~p"/:counter", 0)
  """
  @spec get_or(path(), term()) :: {:ok, data()} | error()
  defdelegate get_or(path, default), to: :khepri_tx

  @doc """
  Reads the payload of the node at `path`, `{:ok, default}` when the node is
  missing or has no payload (see `Khepri.get_or/4`).

  ## Example

      {:ok, 0} = Khepri.Tx.get_or(~p"/:counter", 0, %{})
  """
  @spec get_or(path(), term(), options()) :: {:ok, data()} | error()
  defdelegate get_or(path, default, options), to: :khepri_tx

  @doc """
  Reads every node matching `pattern`. Same as `get_many/2`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => 150}} = Khepri.Tx.get_many(~p"/:stock/:wood/*")
  """
  @spec get_many(path()) :: {:ok, %{:khepri_path.native_path() => data()}} | error()
  defdelegate get_many(pattern), to: :khepri_tx

  @doc """
  Reads every node matching `pattern`: `{:ok, %{native_path => data}}`,
  `{:ok, %{}}` when nothing matches (see `Khepri.get_many/3`).

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => 150}} = Khepri.Tx.get_many(~p"/:stock/:wood/*", %{})
  """
  @spec get_many(path(), options()) ::
          {:ok, %{:khepri_path.native_path() => data()}} | error()
  defdelegate get_many(pattern, options), to: :khepri_tx

  @doc """
  Reads every node matching `pattern`, with `default` for nodes without
  payload. Same as `get_many_or/3`.

  ## Example

      {:ok, %{[:stock, :wood] => :none}} = Khepri.Tx.get_many_or(~p"/:stock/*", :none)
  """
  @spec get_many_or(path(), term()) ::
          {:ok, %{:khepri_path.native_path() => data()}} | error()
  defdelegate get_many_or(pattern, default), to: :khepri_tx

  @doc """
  Reads every node matching `pattern`, with `default` for nodes without
  payload (see `Khepri.get_many_or/4`).

  ## Example

      {:ok, %{[:stock, :wood] => :none}} = Khepri.Tx.get_many_or(~p"/:stock/*", :none, %{})
  """
  @spec get_many_or(path(), term(), options()) ::
          {:ok, %{:khepri_path.native_path() => data()}} | error()
  defdelegate get_many_or(pattern, default, options), to: :khepri_tx

  @doc """
  Whether the node at `path` exists. Same as `exists/2`.

  ## Example

      true = Khepri.Tx.exists(~p"/:stock/:wood/oak")
  """
  @spec exists(path()) :: boolean() | error()
  defdelegate exists(path), to: :khepri_tx

  @doc """
  Whether the node at `path` exists (see `Khepri.exists/3`).

  ## Example

      false = Khepri.Tx.exists(~p"/:stock/:wood/pine", %{})
  """
  @spec exists(path(), options()) :: boolean() | error()
  defdelegate exists(path, options), to: :khepri_tx

  @doc """
  Whether the node at `path` holds data. Same as `has_data/2`.

  ## Example

      true = Khepri.Tx.has_data(~p"/:stock/:wood/oak")
  """
  @spec has_data(path()) :: boolean() | error()
  defdelegate has_data(path), to: :khepri_tx

  @doc """
  Whether the node at `path` holds data, `false` for a missing node (see
  `Khepri.has_data/3`).

  ## Example

      false = Khepri.Tx.has_data(~p"/:stock/:wood", %{})
  """
  @spec has_data(path(), options()) :: boolean() | error()
  defdelegate has_data(path, options), to: :khepri_tx

  @doc """
  Whether the node at `path` holds a stored procedure. Same as
  `is_sproc/2`.

  ## Example

      false = Khepri.Tx.is_sproc(~p"/:stock/:wood/oak")
  """
  @spec is_sproc(path()) :: boolean() | error()
  defdelegate is_sproc(path), to: :khepri_tx

  @doc """
  Whether the node at `path` holds a stored procedure, `false` for a
  missing node (see `Khepri.is_sproc/3`).

  ## Example

      true = Khepri.Tx.is_sproc(~p"/:procs/:hello", %{})
  """
  @spec is_sproc(path(), options()) :: boolean() | error()
  defdelegate is_sproc(path, options), to: :khepri_tx

  @doc """
  Counts the nodes matching `pattern`. Same as `count/2`.

  ## Example

      {:ok, 1} = Khepri.Tx.count(~p"/:stock/:wood/*")
  """
  @spec count(path()) :: {:ok, non_neg_integer()} | error()
  defdelegate count(pattern), to: :khepri_tx

  @doc """
  Counts the nodes matching `pattern` (see `Khepri.count/3`).

  ## Example

      {:ok, 1} = Khepri.Tx.count(~p"/:stock/:wood/*", %{})
  """
  @spec count(path(), options()) :: {:ok, non_neg_integer()} | error()
  defdelegate count(pattern, options), to: :khepri_tx

  @doc """
  Folds `fun` over the nodes matching `pattern`. Same as `fold/4`.

  ## Example

      {:ok, 150} = Khepri.Tx.fold(~p"/:stock/:wood/*", fn _, %{data: n}, acc -> acc + n end, 0)
  """
  @spec fold(path(), Khepri.fold_fun(), term()) :: {:ok, term()} | error()
  defdelegate fold(pattern, fun, acc), to: :khepri_tx

  @doc """
  Calls `fun.(native_path, node_props, acc)` for each node matching
  `pattern`, in the transaction's process, and returns `{:ok, acc}` (see
  `Khepri.fold/5`).

  ## Example

      {:ok, [[:stock, :wood, "oak"]]} =
        Khepri.Tx.fold(~p"/:stock/:wood/*", fn path, _, acc -> [path | acc] end, [], %{})
  """
  @spec fold(path(), Khepri.fold_fun(), term(), options()) :: {:ok, term()} | error()
  defdelegate fold(pattern, fun, acc, options), to: :khepri_tx

  @doc """
  Calls `fun` for each node matching `pattern`. Same as `foreach/3`.

  ## Example

      :ok = Khepri.Tx.foreach(~p"/:stock/:wood/*", fn path, _props -> IO.inspect(path) end)
  """
  @spec foreach(path(), Khepri.each_fun()) :: :ok | error()
  defdelegate foreach(pattern, fun), to: :khepri_tx

  @doc """
  Calls `fun.(native_path, node_props)` for each node matching `pattern`,
  in the transaction's process, and returns `:ok` (see `Khepri.foreach/4`).

  ## Example

      :ok = Khepri.Tx.foreach(~p"/:stock/:wood/*", fn path, _props -> IO.inspect(path) end, %{})
  """
  @spec foreach(path(), Khepri.each_fun(), options()) :: :ok | error()
  defdelegate foreach(pattern, fun, options), to: :khepri_tx

  @doc """
  Maps `fun` over the nodes matching `pattern`. Same as `map/3`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => 150}} =
        Khepri.Tx.map(~p"/:stock/:wood/*", fn _path, props -> props.data end)
  """
  @spec map(path(), Khepri.each_fun()) ::
          {:ok, %{:khepri_path.native_path() => term()}} | error()
  defdelegate map(pattern, fun), to: :khepri_tx

  @doc """
  `{:ok, %{native_path => fun.(native_path, node_props)}}` for the nodes
  matching `pattern` (see `Khepri.map/4`).

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => 1}} =
        Khepri.Tx.map(~p"/:stock/:wood/*", fn _path, props -> props.payload_version end, %{})
  """
  @spec map(path(), Khepri.each_fun(), options()) ::
          {:ok, %{:khepri_path.native_path() => term()}} | error()
  defdelegate map(pattern, fun, options), to: :khepri_tx

  @doc """
  Reads the nodes matching `pattern` for which `pred` is true. Same as
  `filter/3`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => 150}} =
        Khepri.Tx.filter(~p"/:stock/:wood/*", fn _path, props -> props.data > 100 end)
  """
  @spec filter(path(), Khepri.filter_fun()) ::
          {:ok, %{:khepri_path.native_path() => data()}} | error()
  defdelegate filter(pattern, pred), to: :khepri_tx

  @doc """
  `{:ok, %{native_path => data}}` of the nodes matching `pattern` for which
  `pred.(native_path, node_props)` is true (see `Khepri.filter/4`).

  ## Example

      {:ok, %{}} = Khepri.Tx.filter(~p"/:stock/:wood/*", fn _path, props -> props.data > 200 end, %{})
  """
  @spec filter(path(), Khepri.filter_fun(), options()) ::
          {:ok, %{:khepri_path.native_path() => data()}} | error()
  defdelegate filter(pattern, pred, options), to: :khepri_tx

  # -------------------------------------------------------------------
  # Writes.
  # -------------------------------------------------------------------

  @doc """
  Creates or updates one node. Same as `put/3`.

  ## Example

      :ok = Khepri.Tx.put(~p"/:stock/:wood/oak", 150)
  """
  @spec put(path(), data()) :: :ok | error()
  defdelegate put(path, data), to: :khepri_tx

  @doc """
  Creates or updates the node at `path` (missing ancestors are created) in
  the transaction (see `Khepri.put/4`). Returns `:ok`, or the errors of
  `Khepri.put/4` (a failing path condition, `keep_while` conditions not
  met); raises `denied_update_in_readonly_tx` in a `:ro` transaction.

  ## Example

      :ok = Khepri.Tx.put(~p"/:stock/:wood/oak", 150, %{})
      {:ok, 150} = Khepri.Tx.get(~p"/:stock/:wood/oak")
  """
  @spec put(path(), data(), options()) :: :ok | error()
  defdelegate put(path, data, options), to: :khepri_tx

  @doc """
  Creates or updates every node matching `pattern`. Same as `put_many/3`.

  ## Example

      :ok = Khepri.Tx.put_many(~p"/:stock/:wood/*", 0)
  """
  @spec put_many(path(), data()) :: :ok | error()
  defdelegate put_many(pattern, data), to: :khepri_tx

  @doc """
  Creates or updates every node matching `pattern` in the transaction (see
  `Khepri.put_many/4`).

  ## Example

      :ok = Khepri.Tx.put_many(~p"/:stock/:wood/*", 0, %{})
  """
  @spec put_many(path(), data(), options()) :: :ok | error()
  defdelegate put_many(pattern, data, options), to: :khepri_tx

  @doc """
  Creates one node that must not exist. Same as `create/3`.

  ## Example

      :ok = Khepri.Tx.create(~p"/:stock/:wood/elm", 1)
  """
  @spec create(path(), data()) :: :ok | error()
  defdelegate create(path, data), to: :khepri_tx

  @doc """
  Creates the node at `path`, which must not exist, in the transaction (see
  `Khepri.create/4`); `{:error, {:khepri, :mismatching_node, props}}` when
  it exists.

  ## Example

      :ok = Khepri.Tx.create(~p"/:stock/:wood/elm", 1, %{})
      {:error, {:khepri, :mismatching_node, _}} = Khepri.Tx.create(~p"/:stock/:wood/elm", 2, %{})
  """
  @spec create(path(), data(), options()) :: :ok | error()
  defdelegate create(path, data, options), to: :khepri_tx

  @doc """
  Updates one node that must exist. Same as `update/3`.

  ## Example

      :ok = Khepri.Tx.update(~p"/:stock/:wood/oak", 151)
  """
  @spec update(path(), data()) :: :ok | error()
  defdelegate update(path, data), to: :khepri_tx

  @doc """
  Updates the node at `path`, which must exist, in the transaction (see
  `Khepri.update/4`); `{:error, {:khepri, :node_not_found, props}}` when it
  does not.

  ## Example

      :ok = Khepri.Tx.update(~p"/:stock/:wood/oak", 151, %{})
  """
  @spec update(path(), data(), options()) :: :ok | error()
  defdelegate update(path, data, options), to: :khepri_tx

  @doc """
  Updates one node whose data matches `data_pattern`. Same as
  `compare_and_swap/4`.

  ## Example

      :ok = Khepri.Tx.compare_and_swap(~p"/:stock/:wood/oak", 151, 152)
  """
  @spec compare_and_swap(path(), term(), data()) :: :ok | error()
  defdelegate compare_and_swap(path, data_pattern, data), to: :khepri_tx

  @doc """
  Updates the node at `path` when its data matches `data_pattern` (an
  Erlang match pattern), in the transaction (see
  `Khepri.compare_and_swap/5`); `{:error, {:khepri, :mismatching_node,
  props}}` when it does not match.

  ## Example

      :ok = Khepri.Tx.compare_and_swap(~p"/:stock/:wood/oak", 151, 152, %{})
  """
  @spec compare_and_swap(path(), term(), data(), options()) :: :ok | error()
  defdelegate compare_and_swap(path, data_pattern, data, options), to: :khepri_tx

  @doc """
  Deletes one node and its subtree. Same as `delete/2`.

  ## Example

      :ok = Khepri.Tx.delete(~p"/:stock/:wood/oak")
  """
  @spec delete(path()) :: :ok | error()
  defdelegate delete(path), to: :khepri_tx

  @doc """
  Deletes the node at `path` and its subtree in the transaction; `:ok` also
  when it does not exist (see `Khepri.delete/3`).

  ## Example

      :ok = Khepri.Tx.delete(~p"/:stock/:wood/oak", %{})
  """
  @spec delete(path(), options()) :: :ok | error()
  defdelegate delete(path, options), to: :khepri_tx

  @doc """
  Deletes every node matching `pattern` and their subtrees. Same as
  `delete_many/2`.

  ## Example

      :ok = Khepri.Tx.delete_many(~p"/:stock/:wood/*")
  """
  @spec delete_many(path()) :: :ok | error()
  defdelegate delete_many(pattern), to: :khepri_tx

  @doc """
  Deletes every node matching `pattern` and their subtrees in the
  transaction (see `Khepri.delete_many/3`).

  ## Example

      :ok = Khepri.Tx.delete_many(~p"/:stock/:wood/*", %{})
  """
  @spec delete_many(path(), options()) :: :ok | error()
  defdelegate delete_many(pattern, options), to: :khepri_tx

  @doc """
  Removes the payload of one node. Same as `clear_payload/2`.

  ## Example

      :ok = Khepri.Tx.clear_payload(~p"/:stock/:wood/oak")
  """
  @spec clear_payload(path()) :: :ok | error()
  defdelegate clear_payload(path), to: :khepri_tx

  @doc """
  Removes the payload of the node at `path` in the transaction; `:ok` also
  when it does not exist (see `Khepri.clear_payload/3`).

  ## Example

      :ok = Khepri.Tx.clear_payload(~p"/:stock/:wood/oak", %{})
  """
  @spec clear_payload(path(), options()) :: :ok | error()
  defdelegate clear_payload(path, options), to: :khepri_tx

  @doc """
  Removes the payload of every node matching `pattern`. Same as
  `clear_many_payloads/2`.

  ## Example

      :ok = Khepri.Tx.clear_many_payloads(~p"/:stock/:wood/*")
  """
  @spec clear_many_payloads(path()) :: :ok | error()
  defdelegate clear_many_payloads(pattern), to: :khepri_tx

  @doc """
  Removes the payload of every node matching `pattern` in the transaction
  (see `Khepri.clear_many_payloads/3`).

  ## Example

      :ok = Khepri.Tx.clear_many_payloads(~p"/:stock/:wood/*", %{})
  """
  @spec clear_many_payloads(path(), options()) :: :ok | error()
  defdelegate clear_many_payloads(pattern, options), to: :khepri_tx

  # -------------------------------------------------------------------
  # Transaction control.
  # -------------------------------------------------------------------

  @doc """
  Ends the transaction at once: nothing it wrote is committed, it is not
  run again, and `Khepri.transaction/1..5` returns `{:error, reason}`.

  It throws `{:"$__ABORTED_KHEPRI_TX__", reason}`, so code between this call
  and the end of the function must not catch throws.

  ## Example

      {:error, :out_of_stock} =
        Khepri.transaction(:my_store, fn -> Khepri.Tx.abort(:out_of_stock) end)
  """
  @spec abort(term()) :: no_return()
  defdelegate abort(reason), to: :khepri_tx

  @doc """
  Whether the calling process is running a transaction function: `true`
  inside one, `false` anywhere else (never raises).

  ## Example

      false = Khepri.Tx.is_transaction()
      {:ok, true} = Khepri.transaction(:my_store, fn -> Khepri.Tx.is_transaction() end)
  """
  @spec is_transaction() :: boolean()
  defdelegate is_transaction(), to: :khepri_tx

  @doc """
  Whether this implementation has the Khepri behaviour `behaviour`: `true`
  for `:dedup_protection`, `:delete_reason_in_node_props`,
  `:expire_dedups_from_tick`, `:indirect_deletes_in_ret`,
  `:uniform_write_ret`, `:multi_table_projections`, `:uniform_commands`,
  `:request_snapshot` and `:extended_trigger`, `false` for any other atom.
  Works outside transactions too.

  ## Example

      true = Khepri.Tx.does_api_comply_with(:uniform_write_ret)
  """
  @spec does_api_comply_with(atom()) :: boolean()
  defdelegate does_api_comply_with(behaviour), to: :khepri_tx
end
