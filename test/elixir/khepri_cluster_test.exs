defmodule KhepriClusterTest do
  # One node only (the Erlang suite covers multi-node clusters). Works whether
  # or not the test VM is distributed.
  use ExUnit.Case, async: true

  import Khepri.Path, only: [sigil_p: 2]

  alias Khepri.Cluster

  setup context, do: Khepri.TestStore.start(context)

  # A node on this host that does not run: `net_adm:ping/1` answers `pang`
  # at once (at once too when this VM is not distributed).
  def absent_node do
    [_, host] = node() |> Atom.to_string() |> String.split("@")
    :"khepri_ex_absent_#{System.unique_integer([:positive])}@#{host}"
  end

  # A store id and a data directory, removed when the test exits.
  def fresh_store do
    n = System.unique_integer([:positive])
    dir = Path.join(System.tmp_dir!(), "khepri_ex_test_cl_#{n}")
    store = :"khepri_ex_test_cl_#{n}"

    on_exit(fn ->
      :ok = Khepri.stop(store)
      File.rm_rf!(dir)
    end)

    {dir, store}
  end

  describe "start and stop" do
    test "stop/1 and start/2,3 keep the data", %{dir: dir, store: store} do
      assert :ok = Khepri.put(store, ~p"/:a", 1)

      assert Cluster.stop(store) == :ok
      refute Cluster.is_store_running(store)
      refute store in Cluster.get_store_ids()
      assert Cluster.stop(store) == :ok

      assert Cluster.start(dir, store, 30_000) == {:ok, store}
      assert Cluster.start(dir, store) == {:ok, store}
      assert Cluster.is_store_running(store)
      assert store in Cluster.get_store_ids()
      assert Khepri.get(store, ~p"/:a") == {:ok, 1}
    end

    test "start/3 takes a config map" do
      {dir, store} = fresh_store()
      assert Cluster.start(dir, %{cluster_name: store}, 30_000) == {:ok, store}
      assert Cluster.is_store_running(store)
    end
  end

  describe "store ids and member ids" do
    test "of a running store", %{store: store} do
      assert is_atom(Cluster.get_default_store_id())
      assert store in Cluster.get_store_ids()
      assert Cluster.is_store_running(store)
      refute Cluster.is_store_running(:khepri_ex_never_started)
      assert Cluster.this_member(store) == {store, node()}
      assert Cluster.node_to_member(store, node()) == {store, node()}
      assert Cluster.node_to_member(store, :other@host) == {store, :other@host}
    end
  end

  describe "members and nodes" do
    test "of a one-member store", %{store: store} do
      me = node()
      assert Cluster.members(store) == {:ok, [{store, me}]}
      assert Cluster.members(store, %{}) == {:ok, [{store, me}]}
      assert Cluster.members(store, %{favor: :low_latency}) == {:ok, [{store, me}]}
      assert Cluster.members(store, %{favor: :consistency, timeout: 5000}) == {:ok, [{store, me}]}

      assert Cluster.nodes(store) == {:ok, [me]}
      assert Cluster.nodes(store, %{}) == {:ok, [me]}
      assert Cluster.nodes(store, %{favor: :low_latency}) == {:ok, [me]}
      assert Cluster.nodes(store, %{favor: :consistency, timeout: 5000}) == {:ok, [me]}
    end

    test "of a store that is not running" do
      assert Cluster.members(:khepri_ex_never_started) == {:error, :noproc}

      assert Cluster.members(:khepri_ex_never_started, %{favor: :low_latency}) ==
               {:error, :noproc}

      assert Cluster.nodes(:khepri_ex_never_started) == {:error, :noproc}
      assert Cluster.nodes(:khepri_ex_never_started, %{}) == {:error, :noproc}
    end
  end

  describe "wait_for_leader" do
    test "a one-member store is its own leader", %{store: store} do
      assert Cluster.wait_for_leader(store) == :ok
      assert Cluster.wait_for_leader(store, 5000) == :ok
      assert Cluster.wait_for_leader(store, :infinity) == :ok
      assert Cluster.wait_for_leader({store, node()}) == :ok
      assert Cluster.wait_for_leader({store, node()}, 5000) == :ok
    end

    test "times out for a store that does not run or an unreachable member", %{store: store} do
      assert Cluster.wait_for_leader(:khepri_ex_never_started, 300) == {:error, :timeout}
      assert Cluster.wait_for_leader({store, absent_node()}, 1000) == {:error, :timeout}
    end

    test "waits for a store started meanwhile" do
      {dir, store} = fresh_store()

      starter =
        Task.async(fn ->
          Process.sleep(300)
          Cluster.start(dir, store)
        end)

      assert Cluster.wait_for_leader(store, 30_000) == :ok
      assert Task.await(starter, 30_000) == {:ok, store}
    end
  end

  describe "wait_for_effective_machine_version" do
    test "this engine runs version 4", %{store: store} do
      assert Cluster.wait_for_effective_machine_version(store, 4) == :ok
      assert Cluster.wait_for_effective_machine_version(store, :latest) == :ok
      assert Cluster.wait_for_effective_machine_version(store, 1, 5000) == :ok
      assert Cluster.wait_for_effective_machine_version(store, :latest, 5000) == :ok
      # a version this engine never runs: the timeout passes first (SPEC 4.11)
      started = System.monotonic_time(:millisecond)
      assert Cluster.wait_for_effective_machine_version(store, 5, 300) == {:error, :timeout}
      assert System.monotonic_time(:millisecond) - started >= 300
    end

    test "times out for a store that does not run" do
      assert Cluster.wait_for_effective_machine_version(:khepri_ex_never_started, 4, 300) ==
               {:error, :timeout}
    end
  end

  describe "wait_for_effective_behaviour" do
    test "API behaviours", %{store: store} do
      # Upstream callers pass API behaviours (khepri_projection waits for
      # `multi_table_projections`): the names :khepri_tx.does_api_comply_with/1 knows.
      assert Cluster.wait_for_effective_behaviour(store, :dedup_protection) == :ok

      for b <- [:uniform_write_ret, :multi_table_projections, :extended_trigger] do
        assert Cluster.wait_for_effective_behaviour(store, b, 5000) == :ok
      end
    end

    test "an unknown behaviour is an error", %{store: store} do
      error = {:error, {:khepri, :unknown_api_hehaviour, %{behaviour: :khepri_ex_no_such}}}
      assert Cluster.wait_for_effective_behaviour(store, :khepri_ex_no_such) == error
      assert Cluster.wait_for_effective_behaviour(store, :khepri_ex_no_such, 5000) == error
    end
  end

  describe "reset" do
    test "reset/2 deletes the local data and stops the store", %{dir: dir, store: store} do
      assert :ok = Khepri.put(store, ~p"/:a", 1)

      assert Cluster.reset(store, 5000) == :ok
      refute Cluster.is_store_running(store)
      refute store in Cluster.get_store_ids()
      refute File.exists?(Path.join(dir, Atom.to_string(store)))
      assert Cluster.members(store) == {:error, :noproc}

      # Started again, the store is empty.
      assert Cluster.start(dir, store) == {:ok, store}
      assert {:error, {:khepri, :node_not_found, _}} = Khepri.get(store, ~p"/:a")
      assert :ok = Khepri.put(store, ~p"/:a", 2)
    end

    test "reset/1 of a running store", %{store: store} do
      assert Cluster.reset(store) == :ok
      refute Cluster.is_store_running(store)
    end

    test "of a store that was never started" do
      error = {:error, {:khepri, :not_a_khepri_store, %{store_id: :khepri_ex_never_started}}}
      assert Cluster.reset(:khepri_ex_never_started) == error
      assert Cluster.reset(:khepri_ex_never_started, 1000) == error
    end
  end

  describe "join" do
    test "an unreachable node fails and leaves the store serving", %{store: store} do
      assert :ok = Khepri.put(store, ~p"/:before", 1)
      absent = absent_node()

      for ret <- [
            Cluster.join(store, absent),
            Cluster.join(store, absent, 5000),
            Cluster.join(store, {store, absent}, 5000),
            Cluster.join({store, absent}),
            Cluster.join({store, absent}, 5000)
          ] do
        assert {:error, {:khepri, :failed_to_join_remote_khepri_node, _}} = ret
      end

      assert Cluster.is_store_running(store)
      assert Cluster.nodes(store) == {:ok, [node()]}
      assert Khepri.get(store, ~p"/:before") == {:ok, 1}
      assert :ok = Khepri.put(store, ~p"/:after", 2)
      assert Khepri.get(store, ~p"/:after") == {:ok, 2}
    end

    test "this node: already a member, data kept", %{store: store} do
      assert :ok = Khepri.put(store, ~p"/:a", 1)
      assert Cluster.join(store, node()) == :ok
      assert Cluster.join(store, {store, node()}, 5000) == :ok
      assert Khepri.get(store, ~p"/:a") == {:ok, 1}
      assert Cluster.members(store) == {:ok, [{store, node()}]}
    end

    test "of a store that is not running" do
      assert {:error, {:khepri, :not_a_khepri_store, %{store_id: :khepri_ex_never_started}}} =
               Cluster.join(:khepri_ex_never_started, absent_node())

      refute Cluster.is_store_running(:khepri_ex_never_started)
    end
  end
end

defmodule KhepriClusterDefaultStoreTest do
  # Changes the application environment: not async.
  use ExUnit.Case, async: false

  import Khepri.Path, only: [sigil_p: 2]

  alias Khepri.Cluster

  setup do
    Khepri.TestStore.default_env("khepri_ex_test_cl_default")
  end

  test "start, members, nodes, wait_for_leader and stop without a store id",
       %{dir: dir, store: store} do
    assert Cluster.get_default_store_id() == store
    assert Cluster.get_default_ra_system_or_data_dir() == dir

    assert Cluster.start() == {:ok, store}
    assert Cluster.is_store_running(store)
    assert Cluster.members() == {:ok, [{store, node()}]}
    assert Cluster.members(%{favor: :low_latency}) == {:ok, [{store, node()}]}
    assert Cluster.nodes() == {:ok, [node()]}
    assert Cluster.nodes(%{}) == {:ok, [node()]}
    assert Cluster.wait_for_leader() == :ok

    assert Cluster.stop() == :ok
    refute Cluster.is_store_running(store)
    assert Cluster.members() == {:error, :noproc}

    assert Cluster.start(dir) == {:ok, store}
    assert Cluster.is_store_running(store)
  end

  test "join and reset without a store id", %{dir: dir, store: store} do
    assert Cluster.start() == {:ok, store}
    assert :ok = Khepri.put(~p"/:a", 1)

    absent = KhepriClusterTest.absent_node()

    assert {:error, {:khepri, :failed_to_join_remote_khepri_node, _}} = Cluster.join(absent)

    assert {:error, {:khepri, :failed_to_join_remote_khepri_node, _}} = Cluster.join(absent, 5000)

    assert Cluster.join(node()) == :ok
    assert Khepri.get(~p"/:a") == {:ok, 1}

    assert Cluster.reset(5000) == :ok
    refute Cluster.is_store_running(store)

    assert Cluster.start(dir, store) == {:ok, store}
    assert Cluster.reset() == :ok
    refute Cluster.is_store_running(store)
    assert Cluster.reset() == {:error, {:khepri, :not_a_khepri_store, %{store_id: store}}}
  end
end
