defmodule Khepri.TxAdv do
  @moduledoc """
  The Khepri API with detailed results inside transaction functions, the
  Elixir face of `:khepri_tx_adv`.

  These functions only work in a function run by `Khepri.transaction/1..5`
  (and in the process running it): called anywhere else they raise an
  `ErlangError` whose `original` is `{:khepri_ex,
  :invalid_use_of_khepri_tx_outside_transaction, %{}}`. In a `:ro`
  transaction, every write raises `{:khepri_ex,
  :denied_update_in_readonly_tx, %{}}`.

  They are the functions of `Khepri.Adv` without the store id (the store is
  the transaction's), on the transaction's snapshot of the tree, like
  `Khepri.Tx`: reads see the transaction's own earlier writes, and writes
  are only committed, all together, when the function returns. Each returns
  `{:ok, %{native_path => node_props}}` (see `Khepri.Adv` for the
  properties: reads give current properties, writes the **old** payload with
  the **new** versions, and the nodes they removed) or the errors of
  `Khepri.Tx`.

  ## Example

      import Khepri.Path, only: [sigil_p: 2]

      {:ok, {:ok, %{[:fruit] => %{payload_version: 1}}}} =
        Khepri.transaction(:my_store, fn -> Khepri.TxAdv.create(~p"/:fruit", :apple) end)

      {:ok, :apple} =
        Khepri.transaction(:my_store, fn ->
          {:ok, %{[:fruit] => %{data: old}}} = Khepri.TxAdv.put(~p"/:fruit", :pear)
          old
        end)
  """

  @typedoc "A native path or pattern, or a Unix-like path string."
  @type path :: Khepri.path()

  @typedoc "Any term to store (a function is stored as a stored procedure)."
  @type data :: Khepri.data()

  @typedoc "The tree and put options (`:props_to_return`, `:keep_while`, ...)."
  @type options :: Khepri.options()

  @typedoc "`{:ok, %{native_path => node_props}}`, or an error as in `Khepri`."
  @type result :: {:ok, Khepri.node_props_map()} | Khepri.error()

  # -------------------------------------------------------------------
  # Queries.
  # -------------------------------------------------------------------

  @doc """
  Reads one node with its properties. Same as `get/2`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{data: 150, payload_version: 1}}} =
        Khepri.TxAdv.get(~p"/:stock/:wood/oak")
  """
  @spec get(path()) :: result()
  defdelegate get(path), to: :khepri_tx_adv

  @doc """
  Reads the node at `path` with its properties, in the transaction (see
  `Khepri.Adv.get/3`): `node_not_found` for a missing node; raises
  `possibly_matching_many_nodes_denied` for a pattern.

  ## Example

      {:ok, %{[:stock, :wood] => %{child_list_length: 1}}} =
        Khepri.TxAdv.get(~p"/:stock/:wood", %{props_to_return: [:child_list_length]})
  """
  @spec get(path(), options()) :: result()
  defdelegate get(path, options), to: :khepri_tx_adv

  @doc """
  Reads every node matching `pattern` with its properties. Same as
  `get_many/2`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{data: 150}}} = Khepri.TxAdv.get_many(~p"/:stock/:wood/*")
  """
  @spec get_many(path()) :: result()
  defdelegate get_many(pattern), to: :khepri_tx_adv

  @doc """
  Reads every node matching `pattern` with its properties, in the
  transaction: `{:ok, %{}}` when nothing matches (see
  `Khepri.Adv.get_many/3`).

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{data: 150}}} =
        Khepri.TxAdv.get_many(~p"/:stock/:wood/*", %{})
  """
  @spec get_many(path(), options()) :: result()
  defdelegate get_many(pattern, options), to: :khepri_tx_adv

  # -------------------------------------------------------------------
  # Writes.
  # -------------------------------------------------------------------

  @doc """
  `Khepri.Tx.put/2` with detailed results. Same as `put/3`.

  ## Example

      {:ok, %{[:fruit] => %{payload_version: 1}}} = Khepri.TxAdv.put(~p"/:fruit", :apple)
  """
  @spec put(path(), data()) :: result()
  defdelegate put(path, data), to: :khepri_tx_adv

  @doc """
  `Khepri.Tx.put/3` with detailed results: `{:ok, %{native_path =>
  props}}` of the node (old payload, new versions).

  ## Example

      {:ok, %{[:fruit] => %{data: :apple, payload_version: 2}}} =
        Khepri.TxAdv.put(~p"/:fruit", :pear, %{})
  """
  @spec put(path(), data(), options()) :: result()
  defdelegate put(path, data, options), to: :khepri_tx_adv

  @doc """
  `Khepri.Tx.put_many/2` with detailed results. Same as `put_many/3`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{data: 150}}} =
        Khepri.TxAdv.put_many(~p"/:stock/:wood/*", 0)
  """
  @spec put_many(path(), data()) :: result()
  defdelegate put_many(pattern, data), to: :khepri_tx_adv

  @doc """
  `Khepri.Tx.put_many/3` with detailed results: `{:ok, %{native_path =>
  props}}` of every matching node.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{data: 150, payload_version: 2}}} =
        Khepri.TxAdv.put_many(~p"/:stock/:wood/*", 0, %{})
  """
  @spec put_many(path(), data(), options()) :: result()
  defdelegate put_many(pattern, data, options), to: :khepri_tx_adv

  @doc """
  `Khepri.Tx.create/2` with detailed results. Same as `create/3`.

  ## Example

      {:ok, %{[:fruit] => %{payload_version: 1}}} = Khepri.TxAdv.create(~p"/:fruit", :apple)
  """
  @spec create(path(), data()) :: result()
  defdelegate create(path, data), to: :khepri_tx_adv

  @doc """
  `Khepri.Tx.create/3` with detailed results: `{:ok, %{native_path =>
  props}}` of the new node (no payload, its versions).

  ## Example

      {:ok, %{[:fruit] => %{payload_version: 1}}} = Khepri.TxAdv.create(~p"/:fruit", :apple, %{})
  """
  @spec create(path(), data(), options()) :: result()
  defdelegate create(path, data, options), to: :khepri_tx_adv

  @doc """
  `Khepri.Tx.update/2` with detailed results. Same as `update/3`.

  ## Example

      {:ok, %{[:fruit] => %{data: :apple}}} = Khepri.TxAdv.update(~p"/:fruit", :pear)
  """
  @spec update(path(), data()) :: result()
  defdelegate update(path, data), to: :khepri_tx_adv

  @doc """
  `Khepri.Tx.update/3` with detailed results: `{:ok, %{native_path =>
  props}}` of the node (old payload, new versions).

  ## Example

      {:ok, %{[:fruit] => %{data: :apple, payload_version: 2}}} =
        Khepri.TxAdv.update(~p"/:fruit", :pear, %{})
  """
  @spec update(path(), data(), options()) :: result()
  defdelegate update(path, data, options), to: :khepri_tx_adv

  @doc """
  `Khepri.Tx.compare_and_swap/3` with detailed results. Same as
  `compare_and_swap/4`.

  ## Example

      {:ok, %{[:fruit] => %{data: :apple}}} = Khepri.TxAdv.compare_and_swap(~p"/:fruit", :apple, :pear)
  """
  @spec compare_and_swap(path(), term(), data()) :: result()
  defdelegate compare_and_swap(path, data_pattern, data), to: :khepri_tx_adv

  @doc """
  `Khepri.Tx.compare_and_swap/4` with detailed results: `{:ok, %{native_path
  => props}}` of the node (old payload, new versions).

  ## Example

      {:ok, %{[:fruit] => %{data: :apple, payload_version: 2}}} =
        Khepri.TxAdv.compare_and_swap(~p"/:fruit", :apple, :pear, %{})
  """
  @spec compare_and_swap(path(), term(), data(), options()) :: result()
  defdelegate compare_and_swap(path, data_pattern, data, options), to: :khepri_tx_adv

  @doc """
  `Khepri.Tx.delete/1` with detailed results. Same as `delete/2`.

  ## Example

      {:ok, %{[:fruit] => %{data: :pear, delete_reason: :explicit}}} =
        Khepri.TxAdv.delete(~p"/:fruit")
  """
  @spec delete(path()) :: result()
  defdelegate delete(path), to: :khepri_tx_adv

  @doc """
  `Khepri.Tx.delete/2` with detailed results: `{:ok, %{native_path =>
  props}}` of the node and every node of its subtree (`delete_reason:
  :explicit`) and of the nodes removed by `:keep_while` conditions
  (`delete_reason: :keep_while`); `{:ok, %{}}` when it does not exist.

  ## Example

      {:ok, %{[:fruit] => %{data: :pear, delete_reason: :explicit}}} =
        Khepri.TxAdv.delete(~p"/:fruit", %{})
  """
  @spec delete(path(), options()) :: result()
  defdelegate delete(path, options), to: :khepri_tx_adv

  @doc """
  `Khepri.Tx.delete_many/1` with detailed results. Same as
  `delete_many/2`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{delete_reason: :explicit}}} =
        Khepri.TxAdv.delete_many(~p"/:stock/:wood/*")
  """
  @spec delete_many(path()) :: result()
  defdelegate delete_many(pattern), to: :khepri_tx_adv

  @doc """
  `Khepri.Tx.delete_many/2` with detailed results: `{:ok, %{native_path =>
  props}}` of every removed node, as for `delete/2`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{data: 150, delete_reason: :explicit}}} =
        Khepri.TxAdv.delete_many(~p"/:stock/:wood/*", %{})
  """
  @spec delete_many(path(), options()) :: result()
  defdelegate delete_many(pattern, options), to: :khepri_tx_adv

  @doc """
  `Khepri.Tx.clear_payload/1` with detailed results. Same as
  `clear_payload/2`.

  ## Example

      {:ok, %{[:fruit] => %{data: :pear}}} = Khepri.TxAdv.clear_payload(~p"/:fruit")
  """
  @spec clear_payload(path()) :: result()
  defdelegate clear_payload(path), to: :khepri_tx_adv

  @doc """
  `Khepri.Tx.clear_payload/2` with detailed results: `{:ok, %{native_path
  => props}}` of the node (old payload, new versions), `{:ok, %{}}` when it
  does not exist.

  ## Example

      {:ok, %{[:fruit] => %{data: :pear, payload_version: 2}}} =
        Khepri.TxAdv.clear_payload(~p"/:fruit", %{})
  """
  @spec clear_payload(path(), options()) :: result()
  defdelegate clear_payload(path, options), to: :khepri_tx_adv

  @doc """
  `Khepri.Tx.clear_many_payloads/1` with detailed results. Same as
  `clear_many_payloads/2`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{data: 150}}} =
        Khepri.TxAdv.clear_many_payloads(~p"/:stock/:wood/*")
  """
  @spec clear_many_payloads(path()) :: result()
  defdelegate clear_many_payloads(pattern), to: :khepri_tx_adv

  @doc """
  `Khepri.Tx.clear_many_payloads/2` with detailed results: `{:ok,
  %{native_path => props}}` of every matching node (old payload, new
  versions), `{:ok, %{}}` when nothing matches.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{data: 150, payload_version: 2}}} =
        Khepri.TxAdv.clear_many_payloads(~p"/:stock/:wood/*", %{})
  """
  @spec clear_many_payloads(path(), options()) :: result()
  defdelegate clear_many_payloads(pattern, options), to: :khepri_tx_adv
end
