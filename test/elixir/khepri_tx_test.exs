defmodule KhepriTxTest do
  use ExUnit.Case, async: true

  import Khepri.Path, only: [sigil_p: 2]

  setup context, do: Khepri.TestStore.start(context)

  defp khepri_ex(fun) do
    error = assert_raise ErlangError, fun
    error.original
  end

  # Runs the funs of a keyword list one after the other: %{name => result}.
  defp run_in_order(funs), do: Map.new(funs, fn {name, fun} -> {name, fun.()} end)

  defp increment(path) do
    {:ok, n} = Khepri.Tx.get_or(path, 0)
    :ok = Khepri.Tx.put(path, n + 1)
    n + 1
  end

  describe "transaction" do
    test "a read-write transaction commits and returns {:ok, result}", %{store: store} do
      :ok = Khepri.put(store, ~p"/:counter", 41)
      assert Khepri.transaction(store, fn -> increment(~p"/:counter") end) == {:ok, 42}
      assert Khepri.get(store, ~p"/:counter") == {:ok, 42}

      assert Khepri.transaction(store, fn -> increment(~p"/:counter") end, :rw) == {:ok, 43}
      assert Khepri.get(store, ~p"/:counter") == {:ok, 43}
    end

    test "reads see the transaction's own writes", %{store: store} do
      :ok = Khepri.put(store, ~p"/:stock/:wood/oak", 150)

      result =
        Khepri.transaction(store, fn ->
          :ok = Khepri.Tx.put(~p"/:stock/:wood/pine", 10)
          :ok = Khepri.Tx.delete(~p"/:stock/:wood/oak")

          {Khepri.Tx.get(~p"/:stock/:wood/pine"), Khepri.Tx.exists(~p"/:stock/:wood/oak"),
           Khepri.Tx.get_many(~p"/:stock/:wood/*"), Khepri.Tx.count(~p"/:stock/:wood/*"),
           Khepri.Tx.get_or(~p"/:stock/:wood/oak", :gone)}
        end)

      assert result ==
               {:ok,
                {{:ok, 10}, false, {:ok, %{[:stock, :wood, "pine"] => 10}}, {:ok, 1},
                 {:ok, :gone}}}

      assert Khepri.get_many(store, ~p"/:stock/:wood/*") ==
               {:ok, %{[:stock, :wood, "pine"] => 10}}
    end

    test "queries and writes of Khepri.Tx", %{store: store} do
      :ok = Khepri.put(store, ~p"/:stock/:wood/oak", 150)
      :ok = Khepri.put(store, ~p"/:procs/:hello", fn -> :hi end)

      {:ok, result} =
        Khepri.transaction(store, fn ->
          run_in_order(
            is_empty: fn -> Khepri.Tx.is_empty() end,
            is_empty_opts: fn -> Khepri.Tx.is_empty(%{}) end,
            has_data: fn -> Khepri.Tx.has_data(~p"/:stock/:wood/oak") end,
            is_sproc: fn -> Khepri.Tx.is_sproc(~p"/:procs/:hello", %{}) end,
            get_many_or: fn -> Khepri.Tx.get_many_or(~p"/:stock/*", :none) end,
            fold: fn ->
              Khepri.Tx.fold(~p"/:stock/:wood/*", fn _path, %{data: n}, acc -> acc + n end, 0)
            end,
            map: fn ->
              Khepri.Tx.map(~p"/:stock/:wood/*", fn _path, props -> props.payload_version end)
            end,
            filter: fn ->
              Khepri.Tx.filter(~p"/:stock/:wood/*", fn _path, props -> props.data > 100 end)
            end,
            foreach: fn ->
              Khepri.Tx.foreach(~p"/:stock/:wood/*", fn path, _ -> send(self(), path) end)
            end,
            create: fn -> Khepri.Tx.create(~p"/:stock/:wood/elm", 1) end,
            create_again: fn -> Khepri.Tx.create(~p"/:stock/:wood/elm", 2) end,
            update: fn -> Khepri.Tx.update(~p"/:stock/:wood/elm", 3) end,
            cas: fn -> Khepri.Tx.compare_and_swap(~p"/:stock/:wood/elm", 3, 4) end,
            cas_mismatch: fn -> Khepri.Tx.compare_and_swap(~p"/:stock/:wood/elm", 3, 5) end,
            clear_payload: fn -> Khepri.Tx.clear_payload(~p"/:stock/:wood/oak") end,
            put_many: fn -> Khepri.Tx.put_many(~p"/:stock/:wood/*", 0) end,
            complies: fn -> Khepri.Tx.does_api_comply_with(:uniform_write_ret) end,
            complies_not: fn -> Khepri.Tx.does_api_comply_with(:not_a_behaviour) end
          )
        end)

      assert_received [:stock, :wood, "oak"]

      assert %{
               is_empty: false,
               is_empty_opts: false,
               has_data: true,
               is_sproc: true,
               get_many_or: {:ok, %{[:stock, :wood] => :none}},
               fold: {:ok, 150},
               map: {:ok, %{[:stock, :wood, "oak"] => 1}},
               filter: {:ok, %{[:stock, :wood, "oak"] => 150}},
               foreach: :ok,
               create: :ok,
               create_again:
                 {:error, {:khepri, :mismatching_node, %{node_path: [:stock, :wood, "elm"]}}},
               update: :ok,
               cas: :ok,
               cas_mismatch:
                 {:error, {:khepri, :mismatching_node, %{node_path: [:stock, :wood, "elm"]}}},
               clear_payload: :ok,
               put_many: :ok,
               complies: true,
               complies_not: false
             } = result

      assert Khepri.get_many(store, ~p"/:stock/:wood/*") ==
               {:ok, %{[:stock, :wood, "oak"] => 0, [:stock, :wood, "elm"] => 0}}

      assert {:ok, :ok} =
               Khepri.transaction(store, fn -> Khepri.Tx.delete_many(~p"/:stock/:wood/*") end)

      assert {:ok, :ok} =
               Khepri.transaction(store, fn -> Khepri.Tx.clear_many_payloads(~p"/:procs/*") end)

      assert Khepri.count(store, ~p"/:stock/:wood/*") == {:ok, 0}
      assert Khepri.is_sproc(store, ~p"/:procs/:hello") == false
    end

    test "Khepri.Tx.abort/1 returns {:error, reason} and commits nothing", %{store: store} do
      :ok = Khepri.put(store, ~p"/:counter", 1)

      assert Khepri.transaction(store, fn ->
               :ok = Khepri.Tx.put(~p"/:counter", 2)
               :ok = Khepri.Tx.put(~p"/:other", 1)
               Khepri.Tx.abort(:reason)
             end) == {:error, :reason}

      assert Khepri.get(store, ~p"/:counter") == {:ok, 1}
      assert Khepri.exists(store, ~p"/:other") == false
    end

    test "an exception in the fun is re-raised and nothing is committed", %{store: store} do
      :ok = Khepri.put(store, ~p"/:counter", 1)

      assert_raise RuntimeError, "boom", fn ->
        Khepri.transaction(store, fn ->
          :ok = Khepri.Tx.put(~p"/:counter", 2)
          raise "boom"
        end)
      end

      assert catch_throw(
               Khepri.transaction(store, fn ->
                 :ok = Khepri.Tx.put(~p"/:counter", 3)
                 throw(:thrown)
               end)
             ) == :thrown

      assert Khepri.get(store, ~p"/:counter") == {:ok, 1}
      assert Khepri.Tx.is_transaction() == false
    end

    test "a write in a read-only transaction raises", %{store: store} do
      :ok = Khepri.put(store, ~p"/:counter", 1)

      assert khepri_ex(fn ->
               Khepri.transaction(store, fn -> Khepri.Tx.put(~p"/:counter", 2) end, :ro)
             end) == {:khepri_ex, :denied_update_in_readonly_tx, %{}}

      assert khepri_ex(fn ->
               Khepri.transaction(store, fn -> Khepri.TxAdv.delete(~p"/:counter") end, :ro)
             end) == {:khepri_ex, :denied_update_in_readonly_tx, %{}}

      assert Khepri.transaction(store, fn -> Khepri.Tx.get(~p"/:counter") end, :ro) ==
               {:ok, {:ok, 1}}

      assert Khepri.get(store, ~p"/:counter") == {:ok, 1}
    end

    test "Khepri.Tx and Khepri.TxAdv raise outside a transaction" do
      expected = {:khepri_ex, :invalid_use_of_khepri_tx_outside_transaction, %{}}
      assert khepri_ex(fn -> Khepri.Tx.get(~p"/:counter") end) == expected
      assert khepri_ex(fn -> Khepri.Tx.put(~p"/:counter", 1) end) == expected
      assert khepri_ex(fn -> Khepri.Tx.abort(:reason) end) == expected
      assert khepri_ex(fn -> Khepri.TxAdv.get(~p"/:counter") end) == expected
      assert Khepri.Tx.does_api_comply_with(:uniform_write_ret) == true
    end

    test "Khepri.Tx.is_transaction/0", %{store: store} do
      assert Khepri.Tx.is_transaction() == false
      assert Khepri.transaction(store, fn -> Khepri.Tx.is_transaction() end) == {:ok, true}
      assert Khepri.Tx.is_transaction() == false
    end

    test "a fun whose arity is not the number of args raises", %{store: store} do
      fun = fn a -> a end

      assert {:khepri_ex, :denied_tx_fun_with_invalid_args, %{fun: ^fun, arity: 1, args: []}} =
               khepri_ex(fn -> Khepri.transaction(store, fun) end)

      assert {:khepri_ex, :denied_tx_fun_with_invalid_args, %{arity: 1, args: [1, 2]}} =
               khepri_ex(fn -> Khepri.transaction(store, fun, [1, 2]) end)

      assert Khepri.transaction(store, fun, [1]) == {:ok, 1}
    end

    test "argument forms with a store id", %{store: store} do
      add = fn a, b -> a + b end
      assert Khepri.transaction(store, add, [1, 2]) == {:ok, 3}
      assert Khepri.transaction(store, fn -> 0 end, %{timeout: 5000}) == {:ok, 0}
      assert Khepri.transaction(store, add, [1, 2], :ro) == {:ok, 3}
      assert Khepri.transaction(store, add, [1, 2], %{}) == {:ok, 3}
      assert Khepri.transaction(store, fn -> 0 end, :rw, %{}) == {:ok, 0}
      assert Khepri.transaction(store, add, [1, 2], :auto, %{favor: :consistency}) == {:ok, 3}
    end

    test "a stored procedure as the transaction", %{store: store} do
      :ok = Khepri.put(store, ~p"/:counter", 10)

      :ok =
        Khepri.put(store, ~p"/:procs/:add", fn n ->
          {:ok, v} = Khepri.Tx.get(~p"/:counter")
          :ok = Khepri.Tx.put(~p"/:counter", v + n)
          v + n
        end)

      assert Khepri.transaction(store, ~p"/:procs/:add", [5]) == {:ok, 15}
      assert Khepri.get(store, ~p"/:counter") == {:ok, 15}

      assert {:error, {:khepri, :sproc_invalid_as_tx_fun, %{path: [:procs, :add]}}} =
               Khepri.transaction(store, ~p"/:procs/:add", [])

      assert {:error, {:khepri, :no_sproc_at_given_path, %{path: [:counter]}}} =
               Khepri.transaction(store, ~p"/:counter", [])

      assert {:error, {:khepri, :node_not_found, _}} =
               Khepri.transaction(store, ~p"/:procs/:missing", [])
    end

    test "a transaction of a store that is not running" do
      assert Khepri.transaction(:khepri_tx_test_no_such_store, fn -> :ok end) ==
               {:error, :noproc}
    end

    test "Khepri.TxAdv returns detailed results", %{store: store} do
      assert Khepri.transaction(store, fn -> Khepri.TxAdv.put(~p"/:fruit", :apple) end) ==
               {:ok, {:ok, %{[:fruit] => %{payload_version: 1}}}}

      {:ok, result} =
        Khepri.transaction(store, fn ->
          run_in_order(
            get: fn -> Khepri.TxAdv.get(~p"/:fruit") end,
            put: fn -> Khepri.TxAdv.put(~p"/:fruit", :pear, %{}) end,
            get_own: fn -> Khepri.TxAdv.get(~p"/:fruit", %{props_to_return: [:payload]}) end,
            create: fn -> Khepri.TxAdv.create(~p"/:basket/:a", 1) end,
            update: fn -> Khepri.TxAdv.update(~p"/:basket/:a", 2) end,
            cas: fn -> Khepri.TxAdv.compare_and_swap(~p"/:basket/:a", 2, 3) end,
            get_many: fn -> Khepri.TxAdv.get_many(~p"/:basket/*") end,
            put_many: fn -> Khepri.TxAdv.put_many(~p"/:basket/*", 4) end,
            clear_payload: fn -> Khepri.TxAdv.clear_payload(~p"/:basket/:a") end,
            clear_many: fn -> Khepri.TxAdv.clear_many_payloads(~p"/:basket/*") end,
            delete: fn -> Khepri.TxAdv.delete(~p"/:fruit") end,
            delete_many: fn -> Khepri.TxAdv.delete_many(~p"/:basket/*") end
          )
        end)

      assert result == %{
               get: {:ok, %{[:fruit] => %{data: :apple, payload_version: 1}}},
               put: {:ok, %{[:fruit] => %{data: :apple, payload_version: 2}}},
               get_own: {:ok, %{[:fruit] => %{data: :pear}}},
               create: {:ok, %{[:basket, :a] => %{payload_version: 1}}},
               update: {:ok, %{[:basket, :a] => %{data: 1, payload_version: 2}}},
               cas: {:ok, %{[:basket, :a] => %{data: 2, payload_version: 3}}},
               get_many: {:ok, %{[:basket, :a] => %{data: 3, payload_version: 3}}},
               put_many: {:ok, %{[:basket, :a] => %{data: 3, payload_version: 4}}},
               clear_payload: {:ok, %{[:basket, :a] => %{data: 4, payload_version: 5}}},
               clear_many: {:ok, %{[:basket, :a] => %{payload_version: 5}}},
               delete:
                 {:ok,
                  %{[:fruit] => %{data: :pear, payload_version: 2, delete_reason: :explicit}}},
               # The auto-created parent goes with its last child (SPEC 4.1).
               delete_many:
                 {:ok,
                  %{
                    [:basket, :a] => %{payload_version: 5, delete_reason: :explicit},
                    [:basket] => %{payload_version: 1, delete_reason: :keep_while}
                  }}
             }

      assert Khepri.exists(store, ~p"/:fruit") == false
      assert Khepri.exists(store, ~p"/:basket") == false
    end

    test "concurrent increments from many processes are all committed", %{store: store} do
      tasks =
        for _ <- 1..10 do
          Task.async(fn ->
            for _ <- 1..50 do
              {:ok, n} = Khepri.transaction(store, fn -> increment(~p"/:counter") end)
              n
            end
          end)
        end

      results = tasks |> Task.await_many(60_000) |> List.flatten()
      assert Khepri.get(store, ~p"/:counter") == {:ok, 500}
      # Each committed run saw a distinct value.
      assert Enum.sort(results) == Enum.to_list(1..500)
    end
  end

  describe "fence and consistent reads" do
    test "fence", %{store: store} do
      assert Khepri.fence(store, 5000) == :ok
      assert Khepri.fence(store) == :ok
      assert Khepri.fence(:khepri_tx_test_no_such_store, 5000) == {:error, :noproc}
    end

    test "get with favor: :consistency", %{store: store} do
      :ok = Khepri.put(store, ~p"/:fruit", :pear)
      assert Khepri.get(store, ~p"/:fruit", %{favor: :consistency}) == {:ok, :pear}
      assert Khepri.get(store, ~p"/:fruit", %{favor: :low_latency}) == {:ok, :pear}

      assert {:error, {:khepri, :node_not_found, %{node_path: [:veggie]}}} =
               Khepri.get(store, ~p"/:veggie", %{favor: :consistency})

      assert Khepri.transaction(store, fn -> Khepri.Tx.get(~p"/:fruit") end, :ro, %{
               favor: :consistency
             }) == {:ok, {:ok, :pear}}
    end

    # SPEC 4.8: a fence (and `favor: :consistency`) covers the calling
    # process's own earlier async writes, even those still queued for
    # openraft or not yet committed.
    test "a fence covers the caller's async writes, under load", %{store: store} do
      misses =
        1..8
        |> Enum.map(fn t ->
          Task.async(fn ->
            Enum.count(1..200, fn i ->
              path = [:fruit, "#{t}-#{i}"]
              :ok = Khepri.put(store, path, i, %{async: true})
              :ok = Khepri.fence(store, 5000)
              fenced = Khepri.get(store, path) == {:ok, i}

              :ok = Khepri.put(store, path, -i, %{async: true})
              consistent = Khepri.get(store, path, %{favor: :consistency}) == {:ok, -i}

              not (fenced and consistent)
            end)
          end)
        end)
        |> Task.await_many(60_000)

      assert Enum.sum(misses) == 0
    end
  end

  describe "async writes and transactions" do
    test "an async put with a correlation is notified", %{store: store} do
      assert Khepri.put(store, ~p"/:fruit", :pear, %{async: 7}) == :ok
      assert_receive {:ra_event, {^store, _node}, {:applied, [{7, _reply}]}} = event, 5000
      assert Khepri.handle_async_ret(store, event) == [{7, {:ok, %{[:fruit] => %{}}}}]
      assert Khepri.get(store, ~p"/:fruit") == {:ok, :pear}
    end

    test "an async Khepri.Adv write carries its properties", %{store: store} do
      :ok = Khepri.put(store, ~p"/:fruit", :apple)
      ref = make_ref()
      assert Khepri.Adv.put(store, ~p"/:fruit", :pear, %{async: {ref, :low}}) == :ok
      assert_receive {:ra_event, _, {:applied, [{^ref, _}]}} = event, 5000

      assert Khepri.handle_async_ret(store, event) ==
               [{ref, {:ok, %{[:fruit] => %{data: :apple, payload_version: 2}}}}]
    end

    test "an async transaction notifies the fun's result", %{store: store} do
      :ok = Khepri.put(store, ~p"/:counter", 1)

      assert Khepri.transaction(store, fn -> increment(~p"/:counter") end, %{async: 8}) == :ok
      assert_receive {:ra_event, _, {:applied, [{8, _}]}} = event, 5000
      assert Khepri.handle_async_ret(store, event) == [{8, 2}]
      assert Khepri.get(store, ~p"/:counter") == {:ok, 2}
    end

    test "an async transaction's abort and exception", %{store: store} do
      assert Khepri.transaction(store, fn -> Khepri.Tx.abort(:nope) end, %{async: 9}) == :ok
      assert_receive {:ra_event, _, {:applied, [{9, _}]}} = event, 5000
      assert Khepri.handle_async_ret(store, event) == [{9, {:error, :nope}}]

      assert Khepri.transaction(store, fn -> raise "boom" end, %{async: 10}) == :ok
      assert_receive {:ra_event, _, {:applied, [{10, _}]}} = event, 5000
      assert_raise RuntimeError, "boom", fn -> Khepri.handle_async_ret(store, event) end
    end

    test "async: true sends no notification", %{store: store} do
      assert Khepri.put(store, ~p"/:fruit", :pear, %{async: true}) == :ok
      assert Khepri.put(store, ~p"/:veggie", :leek, %{async: :low}) == :ok
      # Replies come in apply order: once this one is in, the writes before
      # it are applied too.
      assert Khepri.put(store, ~p"/:last", 1, %{async: 12}) == :ok
      assert_receive {:ra_event, _, {:applied, [{12, _}]}}, 5000
      refute_received {:ra_event, _, _}
      assert Khepri.get(store, ~p"/:fruit") == {:ok, :pear}
      assert Khepri.get(store, ~p"/:veggie") == {:ok, :leek}
    end
  end
end

defmodule KhepriTxDefaultStoreTest do
  # Uses the default store (application environment): not async.
  use ExUnit.Case, async: false

  import Khepri.Path, only: [sigil_p: 2]

  setup context, do: Khepri.TestStore.start_default(context)

  test "the forms without a store id use the default store", %{store: store} do
    assert Khepri.transaction(fn -> Khepri.Tx.put(~p"/:counter", 1) end) == {:ok, :ok}
    assert Khepri.get(store, ~p"/:counter") == {:ok, 1}

    add = fn a, b -> a + b end
    assert Khepri.transaction(add, [1, 2]) == {:ok, 3}
    assert Khepri.transaction(fn -> Khepri.Tx.get(~p"/:counter") end, :ro) == {:ok, {:ok, 1}}
    assert Khepri.transaction(fn -> 0 end, %{}) == {:ok, 0}
    assert Khepri.transaction(add, [1, 2], :ro) == {:ok, 3}
    assert Khepri.transaction(add, [1, 2], %{}) == {:ok, 3}
    assert Khepri.transaction(fn -> 0 end, :ro, %{}) == {:ok, 0}
    assert Khepri.transaction(add, [1, 2], :rw, %{}) == {:ok, 3}

    assert Khepri.fence() == :ok
    assert Khepri.fence(5000) == :ok
    assert Khepri.fence(:infinity) == :ok

    assert Khepri.put(~p"/:fruit", :pear, %{async: 11}) == :ok
    assert_receive {:ra_event, {^store, _}, {:applied, [{11, _}]}} = event, 5000
    assert Khepri.handle_async_ret(event) == [{11, {:ok, %{[:fruit] => %{}}}}]
  end
end
