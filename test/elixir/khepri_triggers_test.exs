defmodule KhepriTriggersTest do
  use ExUnit.Case, async: true

  import ExUnit.CaptureLog
  import Khepri.Condition, only: [if_node_exists: 1]
  import Khepri.Path, only: [sigil_p: 2]

  require Khepri.Evf

  setup context, do: Khepri.TestStore.start(context)

  # How long a trigger may take to run (they run after the write returns).
  @timeout 5_000

  # Stores, at /:sprocs/:notify, a stored procedure sending its argument (the
  # #khepri_trigger{} record) to the test process.
  defp notify_sproc(store) do
    me = self()

    :ok =
      Khepri.put(store, ~p"/:sprocs/:notify", fn trigger ->
        send(me, trigger)
        :ok
      end)

    ~p"/:sprocs/:notify"
  end

  defp khepri_ex(fun) do
    error = assert_raise ErlangError, fun
    error.original
  end

  describe "register_trigger" do
    test "the sproc gets a #khepri_trigger{} for create, update and delete",
         %{store: store} do
      sproc = notify_sproc(store)
      filter = Khepri.Evf.tree(~p"/:users/*")
      assert Khepri.register_trigger(store, :watch_users, filter, sproc) == :ok

      :ok = Khepri.put(store, ~p"/:users/bob", %{email: "bob@x"})

      assert_receive {:khepri_trigger, :tree, ^store, :watch_users,
                      %{path: [:users, "bob"], change: :create}, %{}},
                     @timeout

      :ok = Khepri.put(store, ~p"/:users/bob", %{email: "bob@y"})

      assert_receive {:khepri_trigger, :tree, ^store, :watch_users,
                      %{path: [:users, "bob"], change: :update}, %{}},
                     @timeout

      :ok = Khepri.delete(store, ~p"/:users/bob")

      assert_receive {:khepri_trigger, :tree, ^store, :watch_users,
                      %{path: [:users, "bob"], change: :delete}, %{}},
                     @timeout

      # The record macros of Khepri.Evf match the same term.
      :ok = Khepri.put(store, ~p"/:users/ann", %{email: "ann@x"})

      assert_receive Khepri.Evf.khepri_trigger(
                       type: :tree,
                       store_id: ^store,
                       trigger_id: :watch_users,
                       event: %{path: [:users, "ann"], change: :create},
                       action: %{}
                     ),
                     @timeout

      refute_received {:khepri_trigger, _, _, _, _, _}
    end

    test "on_actions filters the changes", %{store: store} do
      sproc = notify_sproc(store)

      :ok =
        Khepri.register_trigger(
          store,
          :on_create,
          Khepri.Evf.tree(~p"/:users/*", %{on_actions: [:create]}),
          sproc,
          %{}
        )

      :ok =
        Khepri.register_trigger(
          store,
          :on_update_delete,
          Khepri.Evf.tree(~p"/:users/*", %{on_actions: [:update, :delete]}),
          sproc,
          %{}
        )

      :ok =
        Khepri.register_trigger(
          store,
          :on_delete,
          Khepri.Evf.tree(~p"/:users/*", %{on_actions: [:delete]}),
          sproc,
          %{}
        )

      :ok = Khepri.put(store, ~p"/:users/bob", 1)
      :ok = Khepri.put(store, ~p"/:users/bob", 2)
      :ok = Khepri.delete(store, ~p"/:users/bob")

      # Triggers run one at a time, in the order of the writes: once the
      # last expected firing has arrived, any unexpected one would be in the
      # mailbox already.
      assert_receive {:khepri_trigger, :tree, ^store, :on_create,
                      %{path: [:users, "bob"], change: :create}, %{}},
                     @timeout

      assert_receive {:khepri_trigger, :tree, ^store, :on_update_delete,
                      %{path: [:users, "bob"], change: :update}, %{}},
                     @timeout

      assert_receive {:khepri_trigger, :tree, ^store, :on_update_delete,
                      %{path: [:users, "bob"], change: :delete}, %{}},
                     @timeout

      assert_receive {:khepri_trigger, :tree, ^store, :on_delete,
                      %{path: [:users, "bob"], change: :delete}, %{}},
                     @timeout

      refute_received {:khepri_trigger, _, _, _, _, _}
    end

    test "a path is a filter on every change; ancestors and subtrees count",
         %{store: store} do
      sproc = notify_sproc(store)
      assert Khepri.register_trigger(store, :zoo, "/:zoo/*", sproc) == :ok

      # /:zoo/cats is created by this put (an ancestor), /:zoo/cats/tom does
      # not match.
      :ok = Khepri.put(store, ~p"/:zoo/cats/tom", 3)

      assert_receive {:khepri_trigger, :tree, ^store, :zoo,
                      %{path: [:zoo, "cats"], change: :create}, %{}},
                     @timeout

      :ok = Khepri.put(store, ~p"/:zoo/dogs", 2)

      assert_receive {:khepri_trigger, :tree, ^store, :zoo,
                      %{path: [:zoo, "dogs"], change: :create}, %{}},
                     @timeout

      # Deleting /:zoo deletes each node of its subtree.
      :ok = Khepri.delete(store, ~p"/:zoo")

      assert_receive {:khepri_trigger, :tree, ^store, :zoo,
                      %{path: [:zoo, "cats"], change: :delete}, %{}},
                     @timeout

      assert_receive {:khepri_trigger, :tree, ^store, :zoo,
                      %{path: [:zoo, "dogs"], change: :delete}, %{}},
                     @timeout

      refute_received {:khepri_trigger, _, _, _, _, _}
    end

    test "a transaction's writes and keep_while cascades fire; a no-op put does not",
         %{store: store} do
      sproc = notify_sproc(store)
      :ok = Khepri.register_trigger(store, :t, ~p"/:users/*", sproc)

      {:ok, :ok} =
        Khepri.transaction(store, fn ->
          :ok = Khepri.Tx.put(~p"/:users/ann", 1)
          Khepri.Tx.put(~p"/:users/bob", 1)
        end)

      assert_receive {:khepri_trigger, :tree, ^store, :t,
                      %{path: [:users, "ann"], change: :create}, %{}},
                     @timeout

      assert_receive {:khepri_trigger, :tree, ^store, :t,
                      %{path: [:users, "bob"], change: :create}, %{}},
                     @timeout

      # Same payload: no event.
      :ok = Khepri.put(store, ~p"/:users/ann", 1)

      :ok = Khepri.put(store, ~p"/:groups/admins", :admins)

      :ok =
        Khepri.put(store, ~p"/:users/bob", 2, %{
          keep_while: %{~p"/:groups/admins" => if_node_exists(exists: true)}
        })

      assert_receive {:khepri_trigger, :tree, ^store, :t,
                      %{path: [:users, "bob"], change: :update}, %{}},
                     @timeout

      :ok = Khepri.delete(store, ~p"/:groups/admins")

      assert_receive {:khepri_trigger, :tree, ^store, :t,
                      %{path: [:users, "bob"], change: :delete}, %{}},
                     @timeout

      refute_received {:khepri_trigger, _, _, _, _, _}
    end

    test "firings of one write run by priority, then trigger id", %{store: store} do
      sproc = notify_sproc(store)
      filter = Khepri.Evf.tree(~p"/:users/*")

      :ok = Khepri.register_trigger(store, :b, filter, sproc)
      :ok = Khepri.register_trigger(store, :a, filter, sproc)
      :ok = Khepri.register_trigger(store, :c, Khepri.Evf.set_priority(filter, 10), sproc)
      :ok = Khepri.register_trigger(store, :d, Khepri.Evf.set_priority(filter, -1), sproc)

      :ok = Khepri.put(store, ~p"/:users/bob", 1)

      ids =
        for _ <- 1..4 do
          assert_receive {:khepri_trigger, :tree, ^store, id, %{change: :create}, %{}},
                         @timeout

          id
        end

      assert ids == [:c, :a, :b, :d]
    end

    test "registering an id again replaces its trigger", %{store: store} do
      sproc = notify_sproc(store)
      :ok = Khepri.register_trigger(store, :t, ~p"/:a", sproc)
      :ok = Khepri.register_trigger(store, :t, ~p"/:b", sproc)

      :ok = Khepri.put(store, ~p"/:a", 1)
      :ok = Khepri.put(store, ~p"/:b", 1)

      assert_receive {:khepri_trigger, :tree, ^store, :t, %{path: [:b], change: :create}, %{}},
                     @timeout

      refute_received {:khepri_trigger, _, _, _, _, _}
    end

    test "a missing sproc is skipped", %{store: store} do
      sproc = notify_sproc(store)
      filter = Khepri.Evf.tree(~p"/:users/*")

      :ok =
        Khepri.register_trigger(store, :missing, Khepri.Evf.set_priority(filter, 1), ~p"/:none")

      :ok = Khepri.register_trigger(store, :not_a_sproc, filter, ~p"/:users")
      :ok = Khepri.register_trigger(store, :present, Khepri.Evf.set_priority(filter, -1), sproc)

      log =
        capture_log(fn ->
          :ok = Khepri.put(store, ~p"/:users/ann", 1)

          assert_receive {:khepri_trigger, :tree, ^store, :present,
                          %{path: [:users, "ann"], change: :create}, %{}},
                         @timeout
        end)

      assert log =~ "missing"
      assert log =~ "not_a_sproc"
      refute_received {:khepri_trigger, _, _, _, _, _}
    end

    test "the sproc need not exist when the trigger is registered", %{store: store} do
      :ok = Khepri.register_trigger(store, :early, ~p"/:users/*", ~p"/:sprocs/:notify")
      notify_sproc(store)

      :ok = Khepri.put(store, ~p"/:users/bob", 1)

      assert_receive {:khepri_trigger, :tree, ^store, :early,
                      %{path: [:users, "bob"], change: :create}, %{}},
                     @timeout
    end

    test "a sproc may write to the store; one that raises does not stop the others",
         %{store: store} do
      me = self()

      :ok =
        Khepri.put(store, ~p"/:sprocs/:audit", fn
          {:khepri_trigger, :tree, store_id, _, %{path: [:users, name], change: change}, _} ->
            :ok = Khepri.put(store_id, [:audit, name], change)
            send(me, {:audited, name, change})
        end)

      :ok = Khepri.put(store, ~p"/:sprocs/:crash", fn _trigger -> raise "boom" end)
      # :crash runs first (greater priority).
      filter = Khepri.Evf.tree(~p"/:users/*")

      :ok =
        Khepri.register_trigger(
          store,
          :crash,
          Khepri.Evf.set_priority(filter, 1),
          ~p"/:sprocs/:crash"
        )

      :ok = Khepri.register_trigger(store, :audit, filter, ~p"/:sprocs/:audit")

      log =
        capture_log(fn ->
          :ok = Khepri.put(store, ~p"/:users/bob", 1)
          assert_receive {:audited, "bob", :create}, @timeout
        end)

      assert log =~ "boom"
      assert Khepri.get(store, ~p"/:audit/bob") == {:ok, :create}
    end

    test "triggers survive a restart", %{store: store, dir: dir} do
      sproc = notify_sproc(store)
      :ok = Khepri.register_trigger(store, :t, ~p"/:users/*", sproc)

      :ok = Khepri.stop(store)
      {:ok, ^store} = Khepri.start(dir, store)

      :ok = Khepri.put(store, ~p"/:users/bob", 1)

      assert_receive {:khepri_trigger, :tree, ^store, :t,
                      %{path: [:users, "bob"], change: :create}, %{}},
                     @timeout
    end

    test "raises for a bad trigger id, event filter or sproc path", %{store: store} do
      assert {:khepri_ex, :invalid_trigger_id, %{trigger_id: "t"}} =
               khepri_ex(fn -> Khepri.register_trigger(store, "t", ~p"/:a", ~p"/:s", %{}) end)

      # Khepri.Evf.tree/2 refuses bad properties; register_trigger checks a
      # filter built otherwise.
      assert {:khepri_ex, :invalid_option, %{option: :on_actions, value: [:rename]}} =
               khepri_ex(fn -> Khepri.Evf.tree(~p"/:a", %{on_actions: [:rename]}) end)

      bad_filter = {:evf_tree, [:a], %{on_actions: [:rename]}}

      assert {:khepri_ex, :invalid_event_filter, %{event_filter: ^bad_filter}} =
               khepri_ex(fn -> Khepri.register_trigger(store, :t, bad_filter, ~p"/:s") end)

      assert {:khepri_ex, :possibly_matching_many_nodes_denied, _} =
               khepri_ex(fn -> Khepri.register_trigger(store, :t, ~p"/:a", "/:s/*") end)

      assert {:khepri_ex, :invalid_path, _} =
               khepri_ex(fn -> Khepri.register_trigger(store, :t, [{:bad}], ~p"/:s") end)

      assert {:khepri_ex, :invalid_path, _} =
               khepri_ex(fn -> Khepri.register_trigger(store, :t, ~p"/:a", [{:bad}]) end)
    end

    test "{:error, :noproc} for a store not running" do
      assert Khepri.register_trigger(:khepri_ex_test_no_store, :t, ~p"/:a", ~p"/:s") ==
               {:error, :noproc}
    end
  end
end

defmodule KhepriTriggersDefaultStoreTest do
  # Changes the application environment: not async.
  use ExUnit.Case, async: false

  import Khepri.Path, only: [sigil_p: 2]

  setup context, do: Khepri.TestStore.start_default(context)

  test "the forms without a store id use the default store", %{store: store} do
    me = self()
    :ok = Khepri.put(~p"/:sprocs/:notify", fn trigger -> send(me, trigger) end)

    assert Khepri.register_trigger(:on_a, ~p"/:a", ~p"/:sprocs/:notify") == :ok

    assert Khepri.register_trigger(
             :on_b,
             Khepri.Evf.tree(~p"/:b", %{on_actions: [:delete]}),
             ~p"/:sprocs/:notify",
             %{}
           ) == :ok

    :ok = Khepri.put(~p"/:a", 1)
    :ok = Khepri.put(~p"/:b", 1)
    :ok = Khepri.delete(~p"/:b")

    assert_receive {:khepri_trigger, :tree, ^store, :on_a, %{path: [:a], change: :create}, %{}},
                   5_000

    assert_receive {:khepri_trigger, :tree, ^store, :on_b, %{path: [:b], change: :delete}, %{}},
                   5_000

    refute_received {:khepri_trigger, _, _, _, _, _}
  end
end
