defmodule KhepriTest do
  use ExUnit.Case, async: true

  import ExUnit.CaptureIO
  import Khepri.Path, only: [sigil_p: 2]

  setup context, do: Khepri.TestStore.start(context)

  describe "start/stop" do
    test "start/2 returns {:ok, store} and is idempotent", %{dir: dir, store: store} do
      assert Khepri.start(dir, store) == {:ok, store}
      assert store in Khepri.get_store_ids()
      assert Khepri.Cluster.is_store_running(store)
    end

    test "start/3 takes a timeout and a config map" do
      n = System.unique_integer([:positive])
      dir = Path.join(System.tmp_dir!(), "khepri_ex_test_cfg_#{n}")
      store = :"khepri_ex_test_cfg_#{n}"

      on_exit(fn ->
        Khepri.stop(store)
        File.rm_rf!(dir)
      end)

      assert Khepri.start(dir, %{cluster_name: store}, 30_000) == {:ok, store}
      assert File.dir?(Path.join(dir, Atom.to_string(store)))
      assert :ok = Khepri.put(store, ~p"/:a", 1)
      assert Khepri.get(store, ~p"/:a") == {:ok, 1}
    end

    test "start/2 with an unknown system name" do
      assert Khepri.start(:khepri_ex_no_such_system, :khepri_ex_unused) ==
               {:error, {:khepri, :unknown_ra_system, %{ra_system: :khepri_ex_no_such_system}}}

      refute :khepri_ex_unused in Khepri.get_store_ids()
    end

    test "data survive a restart", %{dir: dir, store: store} do
      assert :ok = Khepri.put(store, ~p"/:stock/:wood/oak", 150)
      assert :ok = Khepri.put(store, "/:stock/:wood/birch", %{price: 20})

      assert Khepri.stop(store) == :ok
      refute store in Khepri.get_store_ids()
      refute Khepri.Cluster.is_store_running(store)
      assert Khepri.get(store, ~p"/:stock/:wood/oak") == {:error, :noproc}

      assert Khepri.start(dir, store) == {:ok, store}
      assert Khepri.get(store, ~p"/:stock/:wood/oak") == {:ok, 150}
      assert Khepri.get(store, [:stock, :wood, "birch"]) == {:ok, %{price: 20}}
      assert Khepri.get(store, ~p"/:stock/:wood") == {:ok, :undefined}

      # And the restarted store takes writes.
      assert :ok = Khepri.put(store, ~p"/:stock/:wood/oak", 151)
      assert Khepri.get(store, ~p"/:stock/:wood/oak") == {:ok, 151}
    end

    test "stop/1 of a store that is not running is :ok" do
      assert Khepri.stop(:khepri_ex_never_started) == :ok
    end
  end

  describe "put/get/exists/delete" do
    test "with ~p paths", %{store: store} do
      assert Khepri.put(store, ~p"/:stock/:wood/oak", 150) == :ok
      assert Khepri.get(store, ~p"/:stock/:wood/oak") == {:ok, 150}
      assert Khepri.exists(store, ~p"/:stock/:wood/oak") == true
      assert Khepri.exists(store, ~p"/:stock/:wood/birch") == false

      assert Khepri.delete(store, ~p"/:stock/:wood/oak") == :ok
      assert Khepri.exists(store, ~p"/:stock/:wood/oak") == false
      assert {:error, {:khepri, :node_not_found, _}} = Khepri.get(store, ~p"/:stock/:wood/oak")
    end

    test "with interpolated ~p paths", %{store: store} do
      name = "oak tree"
      assert :ok = Khepri.put(store, ~p"/:stock/:wood/#{name}", 1)
      assert Khepri.get(store, [:stock, :wood, "oak tree"]) == {:ok, 1}
    end

    test "list paths, string paths and ~p designate the same node", %{store: store} do
      assert :ok = Khepri.put(store, [:stock, :wood, "oak"], 1)
      assert Khepri.get(store, "/:stock/:wood/oak") == {:ok, 1}
      assert Khepri.get(store, ~p"/:stock/:wood/oak") == {:ok, 1}
      assert Khepri.get(store, ~c"/:stock/:wood/oak") == {:ok, 1}

      assert :ok = Khepri.put(store, "/:stock/:wood/oak", 2)
      assert Khepri.get(store, [:stock, :wood, "oak"]) == {:ok, 2}

      # An atom and a binary of the same name are different nodes.
      assert Khepri.exists(store, [:stock, :wood, :oak]) == false
      assert Khepri.exists(store, "/stock") == false
    end

    test "any term is a payload, and put replaces it", %{store: store} do
      payload = %{list: [1, 2, 3], tuple: {:a, "b"}, pid: self(), ref: make_ref()}
      assert :ok = Khepri.put(store, ~p"/:term", payload)
      assert Khepri.get(store, ~p"/:term") == {:ok, payload}

      assert :ok = Khepri.put(store, ~p"/:term", :replaced)
      assert Khepri.get(store, ~p"/:term") == {:ok, :replaced}
    end

    test "{:ok, :undefined} for a node without payload", %{store: store} do
      assert :ok = Khepri.put(store, ~p"/:stock/:wood/oak", 150)
      assert Khepri.get(store, ~p"/:stock/:wood") == {:ok, :undefined}
      assert Khepri.get(store, ~p"/:stock") == {:ok, :undefined}
      assert Khepri.exists(store, ~p"/:stock/:wood") == true
    end

    test "node_not_found for a missing node", %{store: store} do
      assert :ok = Khepri.put(store, ~p"/:stock/:wood/oak", 150)

      assert Khepri.get(store, ~p"/:stock/:wood/birch") ==
               {:error,
                {:khepri, :node_not_found,
                 %{node_name: "birch", node_path: [:stock, :wood, "birch"], node_is_target: true}}}
    end

    test "node_not_found names the first missing ancestor", %{store: store} do
      assert :ok = Khepri.put(store, ~p"/:stock/:wood/oak", 150)

      assert Khepri.get(store, ~p"/:stock/:metal/iron/bar") ==
               {:error,
                {:khepri, :node_not_found,
                 %{node_name: :metal, node_path: [:stock, :metal], node_is_target: false}}}
    end

    test "delete removes the subtree; deleting a missing node is :ok", %{store: store} do
      assert :ok = Khepri.put(store, ~p"/:stock", :root_of_stock)
      assert :ok = Khepri.put(store, ~p"/:stock/:wood/oak", 150)
      assert :ok = Khepri.put(store, ~p"/:stock/:wood/birch", 20)

      assert Khepri.delete(store, "/:stock/:wood") == :ok
      assert Khepri.exists(store, ~p"/:stock/:wood") == false
      assert Khepri.exists(store, ~p"/:stock/:wood/oak") == false
      assert Khepri.exists(store, ~p"/:stock/:wood/birch") == false
      assert Khepri.get(store, ~p"/:stock") == {:ok, :root_of_stock}

      assert Khepri.delete(store, ~p"/:stock/:wood") == :ok
      assert Khepri.delete(store, [:nothing, :here]) == :ok
    end

    test "the root node", %{store: store} do
      assert Khepri.exists(store, []) == true
      assert Khepri.get(store, ~p"/") == {:ok, :undefined}
      assert :ok = Khepri.put(store, [], :root_data)
      assert Khepri.get(store, "/") == {:ok, :root_data}
    end

    test "options maps are accepted and validated", %{store: store} do
      assert :ok = Khepri.put(store, ~p"/:a", 1, %{timeout: 10_000})
      assert Khepri.get(store, ~p"/:a", %{favor: :low_latency}) == {:ok, 1}
      assert Khepri.exists(store, ~p"/:a", %{}) == true
      assert :ok = Khepri.delete(store, ~p"/:a", %{})

      error =
        assert_raise ErlangError, fn ->
          Khepri.put(store, ~p"/:a", 1, %{no_such_option: true})
        end

      assert error.original ==
               {:khepri_ex, :invalid_option, %{option: :no_such_option, value: true}}
    end
  end

  describe "errors" do
    test "{:error, :noproc} for a store that is not running" do
      store = :khepri_ex_not_running
      assert Khepri.get(store, ~p"/:a") == {:error, :noproc}
      assert Khepri.put(store, ~p"/:a", 1) == {:error, :noproc}
      assert Khepri.exists(store, ~p"/:a") == {:error, :noproc}
      assert Khepri.delete(store, ~p"/:a") == {:error, :noproc}
      assert Khepri.info(store) == {:error, :noproc}
    end

    test "invalid_path for a malformed path", %{store: store} do
      error = assert_raise ErlangError, fn -> Khepri.put(store, [:a, 1], :value) end
      assert {:khepri_ex, :invalid_path, %{path: [:a, 1], component: 1}} = error.original

      error = assert_raise ErlangError, fn -> Khepri.get(store, 42) end
      assert {:khepri_ex, :invalid_path, %{path: 42}} = error.original

      error = assert_raise ErlangError, fn -> Khepri.exists(store, %{}) end
      assert {:khepri_ex, :invalid_path, %{path: %{}}} = error.original
    end

    test "possibly_matching_many_nodes_denied for a pattern", %{store: store} do
      for pattern <- ["/:a/*", ~p"/:a/*", "/**", "/:a/b*"] do
        error = assert_raise ErlangError, fn -> Khepri.put(store, pattern, 1) end
        assert {:khepri_ex, :possibly_matching_many_nodes_denied, %{path: _}} = error.original

        error = assert_raise ErlangError, fn -> Khepri.get(store, pattern) end
        assert {:khepri_ex, :possibly_matching_many_nodes_denied, %{path: _}} = error.original

        error = assert_raise ErlangError, fn -> Khepri.delete(store, pattern) end
        assert {:khepri_ex, :possibly_matching_many_nodes_denied, %{path: _}} = error.original
      end

      # Nothing was written.
      assert Khepri.exists(store, ~p"/:a") == false
    end
  end

  describe "info" do
    test "prints the tree", %{store: store} do
      assert :ok = Khepri.put(store, ~p"/:stock/:wood/oak", 150)

      output = capture_io(fn -> assert Khepri.info(store) == :ok end)
      assert output =~ Atom.to_string(store)
      assert output =~ "oak"
      assert output =~ "150"

      assert capture_io(fn -> assert Khepri.info(store, %{}) == :ok end) =~ "oak"
    end
  end

  describe "Khepri.Cluster" do
    test "member ids and running stores", %{store: store} do
      assert Khepri.Cluster.this_member(store) == {store, node()}
      assert Khepri.Cluster.node_to_member(store, :other@host) == {store, :other@host}
      assert Khepri.Cluster.is_store_running(store)
      refute Khepri.Cluster.is_store_running(:khepri_ex_not_running)
      assert store in Khepri.Cluster.get_store_ids()
    end
  end

  describe "Khepri.Error" do
    test "fills name and props from a Khepri error reason" do
      reason = {:khepri, :node_not_found, %{node_name: :oak, node_path: [:oak]}}
      error = Khepri.Error.exception(reason)
      assert %Khepri.Error{reason: ^reason, name: :node_not_found} = error
      assert error.props == %{node_name: :oak, node_path: [:oak]}
      assert Exception.message(error) =~ ":node_not_found"
      assert Exception.message(error) =~ "node_path: [:oak]"

      assert_raise Khepri.Error, ~r/node_not_found/, fn -> raise Khepri.Error, reason: reason end
    end

    test "other reasons leave name and props empty" do
      error = Khepri.Error.exception(reason: :noproc)
      assert %Khepri.Error{reason: :noproc, name: nil, props: nil} = error
      assert Exception.message(error) =~ "noproc"

      error = Khepri.Error.exception({:not_leader, {:s, :n@h}})
      assert error.name == nil
      assert Exception.message(error) =~ "{:not_leader, {:s, :n@h}}"
    end
  end
end

defmodule KhepriDefaultStoreTest do
  # Changes the application environment: not async.
  use ExUnit.Case, async: false

  import Khepri.Path, only: [sigil_p: 2]

  setup do
    Khepri.TestStore.default_env("khepri_ex_test_default")
  end

  test "functions without a store id use the default store", %{dir: dir, store: store} do
    assert Khepri.Cluster.get_default_store_id() == store
    assert Khepri.Cluster.get_default_ra_system_or_data_dir() == dir

    assert Khepri.start() == {:ok, store}
    assert File.dir?(Path.join(dir, Atom.to_string(store)))

    assert Khepri.put(~p"/:stock/:wood/oak", 150) == :ok
    assert Khepri.put("/:stock/:wood/birch", 20, %{}) == :ok
    assert Khepri.get(~p"/:stock/:wood/oak") == {:ok, 150}
    assert Khepri.get(~p"/:stock/:wood/birch", %{}) == {:ok, 20}
    assert Khepri.get(store, ~p"/:stock/:wood/oak") == {:ok, 150}
    assert Khepri.exists(~p"/:stock/:wood/oak") == true
    assert Khepri.exists(~p"/:stock/:wood/pine", %{}) == false
    assert Khepri.delete(~p"/:stock/:wood/oak") == :ok
    assert Khepri.delete(~p"/:stock/:wood/birch", %{}) == :ok
    assert Khepri.exists(~p"/:stock/:wood/oak") == false

    assert Khepri.stop() == :ok
    assert Khepri.get(~p"/:stock") == {:error, :noproc}
  end

  test "start/1 starts the default store in the given directory", %{store: store} do
    dir =
      Path.join(System.tmp_dir!(), "khepri_ex_test_start1_#{System.unique_integer([:positive])}")

    on_exit(fn -> File.rm_rf!(dir) end)

    assert Khepri.Cluster.start(dir) == {:ok, store}
    assert File.dir?(Path.join(dir, Atom.to_string(store)))
    assert Khepri.put([:a], 1) == :ok
    assert Khepri.Cluster.stop() == :ok
    refute Khepri.Cluster.is_store_running(store)
  end

  test "an invalid default store id raises", %{store: store} do
    Application.put_env(:khepri, :default_store_id, "not an atom")

    error = assert_raise ErlangError, fn -> Khepri.get(~p"/:a") end

    assert error.original ==
             {:khepri_ex, :invalid_default_store_id_value, %{default_store_id: "not an atom"}}

    Application.put_env(:khepri, :default_store_id, store)
  end
end
