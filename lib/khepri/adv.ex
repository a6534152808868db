defmodule Khepri.Adv do
  @moduledoc """
  The Khepri API with detailed results, the Elixir face of `:khepri_adv`.

  Each function has the same name, arities and argument dispatch as the
  `Khepri` function it details (a first argument that is an atom is the
  store id; the forms without one use the default store), and returns the
  same errors, but its success value is `{:ok, node_props_map}`: a map from
  native paths to node properties (see "Node properties" in `Khepri`).

  The properties returned are those listed in the `:props_to_return` option,
  by default `[:payload, :payload_version, :delete_reason]`:

    * reads give each node's current properties;
    * writes give each written node's **old** payload (`:data` or `:sproc`,
      absent when it had none, so absent for a created node) with its **new**
      versions;
    * writes also list the nodes they removed: the subtree of an explicit
      delete (`delete_reason: :explicit`) and the nodes removed because their
      `:keep_while` conditions stopped holding (`delete_reason: :keep_while`,
      left out with `return_indirect_deletes: false`).

  ## Example

      import Khepri.Path, only: [sigil_p: 2]

      {:ok, %{[:fruit] => %{payload_version: 1}}} = Khepri.Adv.create(:my_store, ~p"/:fruit", :apple)

      {:ok, %{[:fruit] => %{data: :apple, payload_version: 2}}} =
        Khepri.Adv.put(:my_store, ~p"/:fruit", :pear)

      {:ok, %{[:fruit] => %{data: :pear, payload_version: 2, delete_reason: :explicit}}} =
        Khepri.Adv.delete(:my_store, ~p"/:fruit")
  """

  @typedoc "A store id (an atom)."
  @type store_id :: Khepri.store_id()

  @typedoc "A native path or pattern, or a Unix-like path string."
  @type path :: Khepri.path()

  @typedoc "Any term to store (a function is stored as a stored procedure)."
  @type data :: Khepri.data()

  @typedoc "The options map of queries and writes."
  @type options :: Khepri.options()

  @typedoc "`{:ok, %{native_path => node_props}}`, or an error as in `Khepri`."
  @type result :: {:ok, Khepri.node_props_map()} | Khepri.error()

  # -------------------------------------------------------------------
  # Queries.
  # -------------------------------------------------------------------

  @doc """
  Reads one node of the default store with its properties. Same as `get/3`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{data: 150, payload_version: 1}}} =
        Khepri.Adv.get(~p"/:stock/:wood/oak")
  """
  @spec get(path()) :: result()
  defdelegate get(path), to: :khepri_adv

  @doc """
  `get(store_id, path)` or `get(path, options)` (default store). Same as
  `get/3`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{data: 150}}} =
        Khepri.Adv.get(:my_store, ~p"/:stock/:wood/oak")
  """
  @spec get(store_id(), path()) :: result()
  @spec get(path(), options()) :: result()
  defdelegate get(store_id_or_path, path_or_options), to: :khepri_adv

  @doc """
  Reads the node at `path` with its properties.

  Returns `{:ok, %{native_path => props}}`, `{:ok, %{}}` when the node exists
  but fails a condition of `path`, or the errors of `Khepri.get/3`
  (`node_not_found` for a missing node, `{:error, :noproc}`). Raises
  `possibly_matching_many_nodes_denied` for a pattern.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:stock/:wood/oak", 150)

      {:ok, %{[:stock, :wood] => %{child_list_length: 1, child_list_version: 1}}} =
        Khepri.Adv.get(:my_store, ~p"/:stock/:wood", %{
          props_to_return: [:child_list_length, :child_list_version]
        })
  """
  @spec get(store_id(), path(), options()) :: result()
  defdelegate get(store_id, path, options), to: :khepri_adv

  @doc """
  Reads every node of the default store matching `pattern` with its
  properties. Same as `get_many/3`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{data: 150}}} = Khepri.Adv.get_many(~p"/:stock/:wood/*")
  """
  @spec get_many(path()) :: result()
  defdelegate get_many(pattern), to: :khepri_adv

  @doc """
  `get_many(store_id, pattern)` or `get_many(pattern, options)` (default
  store). Same as `get_many/3`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{data: 150}}} =
        Khepri.Adv.get_many(:my_store, ~p"/:stock/:wood/*")
  """
  @spec get_many(store_id(), path()) :: result()
  @spec get_many(path(), options()) :: result()
  defdelegate get_many(store_id_or_pattern, pattern_or_options), to: :khepri_adv

  @doc """
  Reads every node matching `pattern` with its properties.

  Returns `{:ok, %{native_path => props}}`, `{:ok, %{}}` when nothing
  matches, or `{:error, :noproc}`. The root node is included only for the
  pattern `[]` or with `include_root_props: true`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{data: 150, payload_version: 1}}} =
        Khepri.Adv.get_many(:my_store, ~p"/:stock/:wood/*", %{})
  """
  @spec get_many(store_id(), path(), options()) :: result()
  defdelegate get_many(store_id, pattern, options), to: :khepri_adv

  # -------------------------------------------------------------------
  # Writes.
  # -------------------------------------------------------------------

  @doc """
  `Khepri.put/2` with detailed results. Same as `put/4`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{payload_version: 1}}} =
        Khepri.Adv.put(~p"/:stock/:wood/oak", 150)
  """
  @spec put(path(), data()) :: result()
  defdelegate put(path, data), to: :khepri_adv

  @doc """
  `put(store_id, path, data)` or `put(path, data, options)` (default store).
  Same as `put/4`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{payload_version: 1}}} =
        Khepri.Adv.put(:my_store, ~p"/:stock/:wood/oak", 150)
  """
  @spec put(store_id(), path(), data()) :: result()
  @spec put(path(), data(), options()) :: result()
  defdelegate put(store_id_or_path, path_or_data, data_or_options), to: :khepri_adv

  @doc """
  `Khepri.put/4` with detailed results: `{:ok, %{native_path => props}}`
  with the node's old payload and new versions, plus the nodes the write
  removed through `:keep_while` conditions. Errors as `Khepri.put/4`.

  ## Example

      {:ok, %{[:fruit] => %{payload_version: 1}}} = Khepri.Adv.put(:my_store, ~p"/:fruit", :apple, %{})

      {:ok, %{[:fruit] => %{data: :apple, payload_version: 2}}} =
        Khepri.Adv.put(:my_store, ~p"/:fruit", :pear, %{})
  """
  @spec put(store_id(), path(), data(), options()) :: result()
  defdelegate put(store_id, path, data, options), to: :khepri_adv

  @doc """
  `Khepri.put_many/2` with detailed results. Same as `put_many/4`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{data: 150}}} = Khepri.Adv.put_many(~p"/:stock/:wood/*", 0)
  """
  @spec put_many(path(), data()) :: result()
  defdelegate put_many(pattern, data), to: :khepri_adv

  @doc """
  `put_many(store_id, pattern, data)` or `put_many(pattern, data, options)`
  (default store). Same as `put_many/4`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{data: 150}}} =
        Khepri.Adv.put_many(:my_store, ~p"/:stock/:wood/*", 0)
  """
  @spec put_many(store_id(), path(), data()) :: result()
  @spec put_many(path(), data(), options()) :: result()
  defdelegate put_many(store_id_or_pattern, pattern_or_data, data_or_options),
    to: :khepri_adv

  @doc """
  `Khepri.put_many/4` with detailed results: `{:ok, %{native_path =>
  props}}` of every written node (old payload, new versions), `{:ok, %{}}`
  when nothing matches. Errors as `Khepri.put_many/4`.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:stock/:wood/oak", 150)
      :ok = Khepri.put(:my_store, ~p"/:stock/:metal/iron", 5)

      {:ok,
       %{
         [:stock, :wood, "oak"] => %{data: 150, payload_version: 2},
         [:stock, :metal, "iron"] => %{data: 5, payload_version: 2}
       }} = Khepri.Adv.put_many(:my_store, ~p"/:stock/*/*", 0, %{})
  """
  @spec put_many(store_id(), path(), data(), options()) :: result()
  defdelegate put_many(store_id, pattern, data, options), to: :khepri_adv

  @doc """
  `Khepri.create/2` with detailed results. Same as `create/4`.

  ## Example

      {:ok, %{[:fruit] => %{payload_version: 1}}} = Khepri.Adv.create(~p"/:fruit", :apple)
  """
  @spec create(path(), data()) :: result()
  defdelegate create(path, data), to: :khepri_adv

  @doc """
  `create(store_id, path, data)` or `create(path, data, options)` (default
  store). Same as `create/4`.

  ## Example

      {:ok, %{[:fruit] => %{payload_version: 1}}} = Khepri.Adv.create(:my_store, ~p"/:fruit", :apple)
  """
  @spec create(store_id(), path(), data()) :: result()
  @spec create(path(), data(), options()) :: result()
  defdelegate create(store_id_or_path, path_or_data, data_or_options), to: :khepri_adv

  @doc """
  `Khepri.create/4` with detailed results: `{:ok, %{native_path => props}}`
  of the created node (no `:data`: it had no payload before). Errors as
  `Khepri.create/4` (`mismatching_node` when the node exists).

  ## Example

      {:ok, %{[:fruit] => %{payload_version: 1}}} =
        Khepri.Adv.create(:my_store, ~p"/:fruit", :apple, %{})
  """
  @spec create(store_id(), path(), data(), options()) :: result()
  defdelegate create(store_id, path, data, options), to: :khepri_adv

  @doc """
  `Khepri.update/2` with detailed results. Same as `update/4`.

  ## Example

      {:ok, %{[:fruit] => %{data: :apple, payload_version: 2}}} = Khepri.Adv.update(~p"/:fruit", :pear)
  """
  @spec update(path(), data()) :: result()
  defdelegate update(path, data), to: :khepri_adv

  @doc """
  `update(store_id, path, data)` or `update(path, data, options)` (default
  store). Same as `update/4`.

  ## Example

      {:ok, %{[:fruit] => %{data: :apple, payload_version: 2}}} =
        Khepri.Adv.update(:my_store, ~p"/:fruit", :pear)
  """
  @spec update(store_id(), path(), data()) :: result()
  @spec update(path(), data(), options()) :: result()
  defdelegate update(store_id_or_path, path_or_data, data_or_options), to: :khepri_adv

  @doc """
  `Khepri.update/4` with detailed results: `{:ok, %{native_path => props}}`
  of the updated node (old payload, new versions). Errors as
  `Khepri.update/4` (`node_not_found` when the node is missing).

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:fruit", :apple)

      {:ok, %{[:fruit] => %{data: :apple, payload_version: 2}}} =
        Khepri.Adv.update(:my_store, ~p"/:fruit", :pear, %{})
  """
  @spec update(store_id(), path(), data(), options()) :: result()
  defdelegate update(store_id, path, data, options), to: :khepri_adv

  @doc """
  `Khepri.compare_and_swap/3` with detailed results. Same as
  `compare_and_swap/5`.

  ## Example

      {:ok, %{[:fruit] => %{data: :pear}}} = Khepri.Adv.compare_and_swap(~p"/:fruit", :pear, :plum)
  """
  @spec compare_and_swap(path(), term(), data()) :: result()
  defdelegate compare_and_swap(path, data_pattern, data), to: :khepri_adv

  @doc """
  `compare_and_swap(store_id, path, data_pattern, data)` or
  `compare_and_swap(path, data_pattern, data, options)` (default store).
  Same as `compare_and_swap/5`.

  ## Example

      {:ok, %{[:fruit] => %{data: :pear}}} =
        Khepri.Adv.compare_and_swap(:my_store, ~p"/:fruit", :pear, :plum)
  """
  @spec compare_and_swap(store_id(), path(), term(), data()) :: result()
  @spec compare_and_swap(path(), term(), data(), options()) :: result()
  defdelegate compare_and_swap(
                store_id_or_path,
                path_or_pattern,
                pattern_or_data,
                data_or_options
              ),
              to: :khepri_adv

  @doc """
  `Khepri.compare_and_swap/5` with detailed results: `{:ok, %{native_path =>
  props}}` of the swapped node (old payload, new versions). Errors as
  `Khepri.compare_and_swap/5` (`mismatching_node` when the data do not
  match, `node_not_found` when the node is missing).

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:fruit", :pear)

      {:ok, %{[:fruit] => %{data: :pear, payload_version: 2}}} =
        Khepri.Adv.compare_and_swap(:my_store, ~p"/:fruit", :pear, :plum, %{})
  """
  @spec compare_and_swap(store_id(), path(), term(), data(), options()) :: result()
  defdelegate compare_and_swap(store_id, path, data_pattern, data, options), to: :khepri_adv

  @doc """
  `Khepri.delete/1` with detailed results. Same as `delete/3`.

  ## Example

      {:ok, %{[:fruit] => %{data: :pear, delete_reason: :explicit}}} = Khepri.Adv.delete(~p"/:fruit")
  """
  @spec delete(path()) :: result()
  defdelegate delete(path), to: :khepri_adv

  @doc """
  `delete(store_id, path)` or `delete(path, options)` (default store). Same
  as `delete/3`.

  ## Example

      {:ok, %{[:fruit] => %{data: :pear, delete_reason: :explicit}}} =
        Khepri.Adv.delete(:my_store, ~p"/:fruit")
  """
  @spec delete(store_id(), path()) :: result()
  @spec delete(path(), options()) :: result()
  defdelegate delete(store_id_or_path, path_or_options), to: :khepri_adv

  @doc """
  `Khepri.delete/3` with detailed results: `{:ok, %{native_path => props}}`
  of every removed node: the node and its subtree (`delete_reason:
  :explicit`) and the nodes removed because of `:keep_while` conditions,
  such as the ancestors created implicitly that are now empty
  (`delete_reason: :keep_while`). `{:ok, %{}}` when the node does not exist.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:a/:b/:c", 1)

      {:ok,
       %{
         [:a, :b, :c] => %{data: 1, delete_reason: :explicit},
         [:a, :b] => %{delete_reason: :keep_while},
         [:a] => %{delete_reason: :keep_while}
       }} = Khepri.Adv.delete(:my_store, ~p"/:a/:b/:c", %{})
  """
  @spec delete(store_id(), path(), options()) :: result()
  defdelegate delete(store_id, path, options), to: :khepri_adv

  @doc """
  `Khepri.delete_many/1` with detailed results. Same as `delete_many/3`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{delete_reason: :explicit}}} =
        Khepri.Adv.delete_many(~p"/:stock/:wood/*")
  """
  @spec delete_many(path()) :: result()
  defdelegate delete_many(pattern), to: :khepri_adv

  @doc """
  `delete_many(store_id, pattern)` or `delete_many(pattern, options)`
  (default store). Same as `delete_many/3`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{delete_reason: :explicit}}} =
        Khepri.Adv.delete_many(:my_store, ~p"/:stock/:wood/*")
  """
  @spec delete_many(store_id(), path()) :: result()
  @spec delete_many(path(), options()) :: result()
  defdelegate delete_many(store_id_or_pattern, pattern_or_options), to: :khepri_adv

  @doc """
  `Khepri.delete_many/3` with detailed results: `{:ok, %{native_path =>
  props}}` of every removed node, as `delete/3`; `{:ok, %{}}` when nothing
  matches.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{data: 150, delete_reason: :explicit}}} =
        Khepri.Adv.delete_many(:my_store, ~p"/:stock/:wood/*", %{})
  """
  @spec delete_many(store_id(), path(), options()) :: result()
  defdelegate delete_many(store_id, pattern, options), to: :khepri_adv

  @doc """
  `Khepri.clear_payload/1` with detailed results. Same as `clear_payload/3`.

  ## Example

      {:ok, %{[:fruit] => %{data: :pear}}} = Khepri.Adv.clear_payload(~p"/:fruit")
  """
  @spec clear_payload(path()) :: result()
  defdelegate clear_payload(path), to: :khepri_adv

  @doc """
  `clear_payload(store_id, path)` or `clear_payload(path, options)` (default
  store). Same as `clear_payload/3`.

  ## Example

      {:ok, %{[:fruit] => %{data: :pear}}} = Khepri.Adv.clear_payload(:my_store, ~p"/:fruit")
  """
  @spec clear_payload(store_id(), path()) :: result()
  @spec clear_payload(path(), options()) :: result()
  defdelegate clear_payload(store_id_or_path, path_or_options), to: :khepri_adv

  @doc """
  `Khepri.clear_payload/3` with detailed results: `{:ok, %{native_path =>
  props}}` of the node (old payload, new versions), `{:ok, %{}}` when it
  does not exist.

  ## Example

      :ok = Khepri.put(:my_store, ~p"/:fruit", :pear)

      {:ok, %{[:fruit] => %{data: :pear, payload_version: 2}}} =
        Khepri.Adv.clear_payload(:my_store, ~p"/:fruit", %{})
  """
  @spec clear_payload(store_id(), path(), options()) :: result()
  defdelegate clear_payload(store_id, path, options), to: :khepri_adv

  @doc """
  `Khepri.clear_many_payloads/1` with detailed results. Same as
  `clear_many_payloads/3`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{data: 150}}} =
        Khepri.Adv.clear_many_payloads(~p"/:stock/:wood/*")
  """
  @spec clear_many_payloads(path()) :: result()
  defdelegate clear_many_payloads(pattern), to: :khepri_adv

  @doc """
  `clear_many_payloads(store_id, pattern)` or `clear_many_payloads(pattern,
  options)` (default store). Same as `clear_many_payloads/3`.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{data: 150}}} =
        Khepri.Adv.clear_many_payloads(:my_store, ~p"/:stock/:wood/*")
  """
  @spec clear_many_payloads(store_id(), path()) :: result()
  @spec clear_many_payloads(path(), options()) :: result()
  defdelegate clear_many_payloads(store_id_or_pattern, pattern_or_options), to: :khepri_adv

  @doc """
  `Khepri.clear_many_payloads/3` with detailed results: `{:ok, %{native_path
  => props}}` of every matching node (old payload, new versions), `{:ok,
  %{}}` when nothing matches.

  ## Example

      {:ok, %{[:stock, :wood, "oak"] => %{data: 150, payload_version: 2}}} =
        Khepri.Adv.clear_many_payloads(:my_store, ~p"/:stock/:wood/*", %{})
  """
  @spec clear_many_payloads(store_id(), path(), options()) :: result()
  defdelegate clear_many_payloads(store_id, pattern, options), to: :khepri_adv
end
