defmodule KhepriProjectionsTest do
  use ExUnit.Case, async: true

  import ExUnit.CaptureLog
  import Khepri.Path, only: [sigil_p: 2, star: 0]

  setup context, do: Khepri.TestStore.start(context)

  # Projection tables are named ETS tables, global to the node: each test
  # names its own.
  defp fresh_name(base), do: :"#{base}_#{System.unique_integer([:positive])}"

  defp khepri_ex(fun) do
    error = assert_raise ErlangError, fun
    error.original
  end

  describe "copy projection" do
    test "every write is seen by :ets.lookup as soon as the call returns", %{store: store} do
      queues = fresh_name(:queues)
      projection = Khepri.Projection.new(queues, :copy, %{keypos: 2})
      assert Khepri.register_projection(store, ~p"/:queues/*", projection) == :ok

      assert :ets.info(queues, :named_table) == true
      assert :ets.info(queues, :keypos) == 2
      assert :ets.info(queues, :protection) == :protected
      assert :ets.info(queues, :owner) == Process.whereis(store)
      assert :ets.info(queues, :size) == 0

      # put creates
      :ok = Khepri.put(store, ~p"/:queues/q1", {:amqqueue, "q1", :durable})
      assert :ets.lookup(queues, "q1") == [{:amqqueue, "q1", :durable}]

      # create
      :ok = Khepri.create(store, ~p"/:queues/q2", {:amqqueue, "q2", :durable})
      assert :ets.lookup(queues, "q2") == [{:amqqueue, "q2", :durable}]

      # put on an existing node, update, compare_and_swap
      :ok = Khepri.put(store, ~p"/:queues/q1", {:amqqueue, "q1", :transient})
      assert :ets.lookup(queues, "q1") == [{:amqqueue, "q1", :transient}]
      :ok = Khepri.update(store, ~p"/:queues/q1", {:amqqueue, "q1", :exclusive})
      assert :ets.lookup(queues, "q1") == [{:amqqueue, "q1", :exclusive}]

      :ok =
        Khepri.compare_and_swap(
          store,
          ~p"/:queues/q2",
          {:amqqueue, "q2", :_},
          {:amqqueue, "q2", :auto_delete}
        )

      assert :ets.lookup(queues, "q2") == [{:amqqueue, "q2", :auto_delete}]

      # a transaction's writes
      {:ok, :ok} =
        Khepri.transaction(store, fn ->
          Khepri.Tx.put(~p"/:queues/q3", {:amqqueue, "q3", :durable})
        end)

      assert :ets.lookup(queues, "q3") == [{:amqqueue, "q3", :durable}]

      # nodes outside the pattern are not projected
      :ok = Khepri.put(store, ~p"/:exchanges/x1", {:exchange, "x1", :direct})
      :ok = Khepri.put(store, ~p"/:queues/q1/:bindings", {:binding, "b1", :none})
      assert :ets.lookup(queues, "x1") == []
      assert :ets.lookup(queues, "b1") == []
      assert :ets.info(queues, :size) == 3

      # delete
      :ok = Khepri.delete(store, ~p"/:queues/q1")
      assert :ets.lookup(queues, "q1") == []
      assert :ets.lookup(queues, "q2") == [{:amqqueue, "q2", :auto_delete}]

      # a node that loses its payload loses its record
      :ok = Khepri.clear_payload(store, ~p"/:queues/q3")
      assert :ets.lookup(queues, "q3") == []

      # deleting an ancestor deletes each node of the subtree
      :ok = Khepri.delete(store, ~p"/:queues")
      assert :ets.info(queues, :size) == 0
    end

    test "registration fills the table from the current tree", %{store: store} do
      :ok = Khepri.put(store, ~p"/:queues/q1", {:amqqueue, "q1", :durable})
      :ok = Khepri.put(store, ~p"/:queues/q2", {:amqqueue, "q2", :transient})
      :ok = Khepri.put(store, ~p"/:other/q3", {:amqqueue, "q3", :durable})

      queues = fresh_name(:queues)
      projection = Khepri.Projection.new(queues, :copy, %{keypos: 2, type: :ordered_set})
      assert Khepri.register_projection(store, "/:queues/*", projection, %{}) == :ok

      assert :ets.tab2list(queues) == [
               {:amqqueue, "q1", :durable},
               {:amqqueue, "q2", :transient}
             ]
    end

    test "a write whose data is not a tuple is skipped, the others go on", %{store: store} do
      queues = fresh_name(:queues)

      :ok =
        Khepri.register_projection(store, ~p"/:queues/*", Khepri.Projection.new(queues, :copy))

      log =
        capture_log(fn ->
          assert Khepri.put(store, ~p"/:queues/bad", :not_a_tuple) == :ok
        end)

      assert log =~ "#{queues}"
      assert :ets.info(queues, :size) == 0

      :ok = Khepri.put(store, ~p"/:queues/good", {"good", 1})
      assert :ets.lookup(queues, "good") == [{"good", 1}]
      assert Khepri.get(store, ~p"/:queues/bad") == {:ok, :not_a_tuple}
    end
  end

  describe "simple fun projection" do
    test "inserts the fun's record on create and update, deletes it on delete",
         %{store: store} do
      emails = fresh_name(:emails)

      projection =
        Khepri.Projection.new(
          emails,
          fn [:users, name], %{email: email} -> {name, email} end,
          %{type: :set, read_concurrency: true}
        )

      :ok = Khepri.register_projection(store, ~p"/:users/*", projection)
      assert :ets.info(emails, :read_concurrency) == true

      :ok = Khepri.put(store, ~p"/:users/ann", %{email: "ann@x"})
      assert :ets.lookup(emails, "ann") == [{"ann", "ann@x"}]

      :ok = Khepri.put(store, ~p"/:users/ann", %{email: "ann@y"})
      assert :ets.lookup(emails, "ann") == [{"ann", "ann@y"}]

      :ok = Khepri.delete(store, ~p"/:users/ann")
      assert :ets.lookup(emails, "ann") == []

      # Nodes without data are ignored: /:users/bob is created without a
      # payload by this put.
      :ok = Khepri.put(store, ~p"/:users/bob/:settings", %{theme: :dark})
      assert :ets.info(emails, :size) == 0
    end

    test "an update that changes the record's key leaves the old record (SPEC 4.7)",
         %{store: store} do
      by_email = fresh_name(:by_email)

      projection =
        Khepri.Projection.new(by_email, fn [:users, name], %{email: email} ->
          {email, name}
        end)

      :ok = Khepri.register_projection(store, ~p"/:users/*", projection)

      :ok = Khepri.put(store, ~p"/:users/ann", %{email: "ann@x"})
      :ok = Khepri.put(store, ~p"/:users/ann", %{email: "ann@y"})
      assert :ets.lookup(by_email, "ann@x") == [{"ann@x", "ann"}]
      assert :ets.lookup(by_email, "ann@y") == [{"ann@y", "ann"}]

      # The delete removes the record of the last data only.
      :ok = Khepri.delete(store, ~p"/:users/ann")
      assert :ets.lookup(by_email, "ann@y") == []
      assert :ets.lookup(by_email, "ann@x") == [{"ann@x", "ann"}]
    end
  end

  describe "extended fun projection" do
    test "one table: the fun gets the table, the path and the old and new props",
         %{store: store} do
      changes = fresh_name(:changes)

      # Keeps every change of a node, in order: {path, old_props, new_props}.
      fun = fn table, path, old_props, new_props ->
        :ets.insert(table, {path, old_props, new_props})
      end

      projection = Khepri.Projection.new(changes, fun, %{type: :duplicate_bag})
      :ok = Khepri.register_projection(store, ~p"/:stock/*", projection)
      assert :ets.info(changes, :type) == :duplicate_bag

      :ok = Khepri.put(store, ~p"/:stock/:oak", 150)

      assert [{[:stock, :oak], %{}, created}] = :ets.lookup(changes, [:stock, :oak])

      assert created == %{
               data: 150,
               payload_version: 1,
               child_list_version: 1,
               child_list_length: 0,
               child_names: []
             }

      :ok = Khepri.put(store, ~p"/:stock/:oak", 140)

      assert [_, {_, ^created, %{data: 140, payload_version: 2} = updated}] =
               :ets.lookup(changes, [:stock, :oak])

      :ok = Khepri.delete(store, ~p"/:stock/:oak")
      assert [_, _, {_, ^updated, %{}}] = :ets.lookup(changes, [:stock, :oak])

      # A node without data is given too (no :data key).
      :ok = Khepri.put(store, ~p"/:stock/pine/:bark", :brown)

      assert [{_, %{}, pine}] = :ets.lookup(changes, [:stock, "pine"])
      assert %{payload_version: 1, child_list_length: 1, child_names: [:bark]} = pine
      refute Map.has_key?(pine, :data)
    end

    test "several tables with :tables", %{store: store} do
      wood = fresh_name(:wood)
      stocks = fresh_name(:wood_stocks)
      needs = fresh_name(:wood_needs)

      # Every kind of wood in `stocks`; those below 10 in `needs` too.
      fun = fn %{^stocks => stocks_tid, ^needs => needs_tid}, [:stock, :wood, kind], old, new ->
        case {old, new} do
          {_, %{data: n}} ->
            :ets.insert(stocks_tid, {kind, n})
            :ets.delete(needs_tid, kind)
            if n < 10, do: :ets.insert(needs_tid, {:needed, kind, 10 - n})

          {%{data: _}, _} ->
            :ets.delete(stocks_tid, kind)
            :ets.match_delete(needs_tid, {:_, kind, :_})
        end
      end

      projection =
        Khepri.Projection.new(wood, fun, %{
          tables: %{stocks => %{}, needs => %{type: :bag, keypos: 2}},
          read_concurrency: true
        })

      :ok = Khepri.put(store, ~p"/:stock/:wood/oak", 150)
      assert Khepri.register_projection(store, ~p"/:stock/:wood/*", projection) == :ok

      # The tables are named after the keys of :tables, not the projection.
      assert :ets.info(wood) == :undefined
      assert :ets.info(needs, :keypos) == 2
      assert :ets.info(needs, :type) == :bag
      assert :ets.info(stocks, :read_concurrency) == true
      assert :ets.lookup(stocks, "oak") == [{"oak", 150}]
      assert Khepri.has_projection(store, wood) == true

      :ok = Khepri.put(store, ~p"/:stock/:wood/birch", 4)
      assert :ets.lookup(stocks, "birch") == [{"birch", 4}]
      assert :ets.lookup(needs, "birch") == [{:needed, "birch", 6}]

      :ok = Khepri.put(store, ~p"/:stock/:wood/birch", 12)
      assert :ets.lookup(stocks, "birch") == [{"birch", 12}]
      assert :ets.lookup(needs, "birch") == []

      :ok = Khepri.put(store, ~p"/:stock/:wood/oak", 3)
      assert :ets.lookup(needs, "oak") == [{:needed, "oak", 7}]

      :ok = Khepri.delete(store, ~p"/:stock/:wood/oak")
      assert :ets.lookup(stocks, "oak") == []
      assert :ets.lookup(needs, "oak") == []
      assert :ets.tab2list(stocks) == [{"birch", 12}]

      assert Khepri.unregister_projections(store, [wood]) == :ok
      assert :ets.info(stocks) == :undefined
      assert :ets.info(needs) == :undefined
    end
  end

  describe "register_projection" do
    test "projection_already_exists", %{store: store} do
      users = fresh_name(:users)
      :ok = Khepri.register_projection(store, ~p"/:users/*", Khepri.Projection.new(users, :copy))

      assert Khepri.register_projection(
               store,
               ~p"/:others/*",
               Khepri.Projection.new(users, fn _path, data -> data end)
             ) == {:error, {:khepri, :projection_already_exists, %{name: users}}}

      # The first projection is unchanged.
      :ok = Khepri.put(store, ~p"/:users/ann", {"ann", 1})
      :ok = Khepri.put(store, ~p"/:others/bob", {"bob", 2})
      assert :ets.tab2list(users) == [{"ann", 1}]
    end

    test "raises for something else than a projection or a bad pattern", %{store: store} do
      assert {:khepri_ex, :invalid_projection, _} =
               khepri_ex(fn -> Khepri.register_projection(store, ~p"/:users/*", :users) end)

      projection = Khepri.Projection.new(fresh_name(:p), :copy)

      assert {:khepri_ex, :invalid_path, _} =
               khepri_ex(fn -> Khepri.register_projection(store, [{:bad}], projection) end)

      assert {:khepri_ex, :invalid_option, %{option: :bad_option}} =
               khepri_ex(fn ->
                 Khepri.register_projection(store, ~p"/:a", projection, %{bad_option: 1})
               end)
    end

    test "{:error, :noproc} for a store not running" do
      projection = Khepri.Projection.new(fresh_name(:p), :copy)

      assert Khepri.register_projection(:khepri_ex_test_no_store, ~p"/:a", projection) ==
               {:error, :noproc}
    end
  end

  describe "has_projection" do
    test "tells if a projection is registered", %{store: store} do
      users = fresh_name(:users)
      assert Khepri.has_projection(store, users) == false
      assert Khepri.has_projection(store, users, %{}) == false

      :ok = Khepri.register_projection(store, ~p"/:users/*", Khepri.Projection.new(users, :copy))
      assert Khepri.has_projection(store, users) == true
      assert Khepri.has_projection(store, users, %{favor: :consistency}) == true
      assert Khepri.has_projection(store, fresh_name(:other)) == false

      :ok = Khepri.unregister_projections(store, [users])
      assert Khepri.has_projection(store, users) == false
    end

    test "{:error, :noproc} for a store not running, raises for a bad name" do
      assert Khepri.has_projection(:khepri_ex_test_no_store, :users) == {:error, :noproc}

      assert {:khepri_ex, :invalid_projection_names, _} =
               khepri_ex(fn -> Khepri.has_projection(:khepri_ex_test_no_store, "users", %{}) end)
    end
  end

  describe "unregister_projections" do
    test "drops the named tables, ignores unknown names", %{store: store} do
      [a, b, c] = for base <- [:a, :b, :c], do: fresh_name(base)

      for name <- [a, b, c] do
        :ok =
          Khepri.register_projection(store, [name, star()], Khepri.Projection.new(name, :copy))
      end

      assert Khepri.unregister_projections(store, [a, fresh_name(:unknown)]) == :ok
      assert :ets.info(a) == :undefined
      assert Khepri.has_projection(store, a) == false
      assert is_list(:ets.info(b))

      # Writes go on; the remaining projections are still updated.
      :ok = Khepri.put(store, [a, :x], {:x, 1})
      :ok = Khepri.put(store, [b, :x], {:x, 2})
      assert :ets.lookup(b, :x) == [{:x, 2}]

      assert Khepri.unregister_projections(store, :all, %{}) == :ok
      assert :ets.info(b) == :undefined
      assert :ets.info(c) == :undefined
      assert Khepri.has_projection(store, b) == false
      assert Khepri.has_projection(store, c) == false

      # The name may be registered again: the new table is filled.
      :ok = Khepri.register_projection(store, [a, star()], Khepri.Projection.new(a, :copy))
      assert :ets.lookup(a, :x) == [{:x, 1}]
    end

    test "a restart re-creates and refills the tables (SPEC 4.7)", %{store: store, dir: dir} do
      users = fresh_name(:users)
      :ok = Khepri.register_projection(store, ~p"/:users/*", Khepri.Projection.new(users, :copy))
      :ok = Khepri.put(store, ~p"/:users/ann", {"ann", 1})

      :ok = Khepri.stop(store)
      assert :ets.info(users) == :undefined

      {:ok, ^store} = Khepri.start(dir, store)
      assert Khepri.has_projection(store, users) == true
      assert :ets.lookup(users, "ann") == [{"ann", 1}]

      :ok = Khepri.put(store, ~p"/:users/bob", {"bob", 2})
      assert :ets.lookup(users, "bob") == [{"bob", 2}]
    end

    test "the tables go when the store stops", %{store: store} do
      users = fresh_name(:users)
      :ok = Khepri.register_projection(store, ~p"/:users/*", Khepri.Projection.new(users, :copy))
      :ok = Khepri.put(store, ~p"/:users/ann", {"ann", 1})

      :ok = Khepri.stop(store)
      assert :ets.info(users) == :undefined
    end

    test "raises for bad names", %{store: store} do
      assert {:khepri_ex, :invalid_projection_names, _} =
               khepri_ex(fn -> Khepri.unregister_projections(store, ["users"]) end)

      assert {:khepri_ex, :invalid_projection_names, _} =
               khepri_ex(fn -> Khepri.unregister_projections(store, :users, %{}) end)
    end
  end
end

defmodule KhepriProjectionsDefaultStoreTest do
  # Changes the application environment: not async.
  use ExUnit.Case, async: false

  import Khepri.Path, only: [sigil_p: 2]

  setup context, do: Khepri.TestStore.start_default(context)

  test "the forms without a store id use the default store", %{store: store} do
    a = :"default_a_#{System.unique_integer([:positive])}"
    b = :"default_b_#{System.unique_integer([:positive])}"

    assert Khepri.register_projection(~p"/:a/*", Khepri.Projection.new(a, :copy)) == :ok
    assert Khepri.register_projection(~p"/:b/*", Khepri.Projection.new(b, :copy), %{}) == :ok
    assert Khepri.has_projection(a) == true
    assert Khepri.has_projection(b, %{}) == true
    assert Khepri.has_projection(store, b) == true

    :ok = Khepri.put(~p"/:a/x", {:x, 1})
    assert :ets.lookup(a, :x) == [{:x, 1}]

    assert Khepri.unregister_projections([a]) == :ok
    assert Khepri.has_projection(a) == false
    assert :ets.info(a) == :undefined

    assert Khepri.unregister_projections(:all, %{}) == :ok
    assert Khepri.has_projection(b) == false
  end
end
