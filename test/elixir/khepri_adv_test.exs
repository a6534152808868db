defmodule KhepriAdvTest do
  use ExUnit.Case, async: true

  import Khepri.Condition
  import Khepri.Path, only: [sigil_p: 2, star: 0, this_node: 0]

  alias Khepri.Adv

  setup context, do: Khepri.TestStore.start(context)

  defp khepri_ex(fun) do
    error = assert_raise ErlangError, fun
    error.original
  end

  defp stock(store) do
    :ok = Khepri.put(store, ~p"/:stock/:wood/oak", 150)
    :ok = Khepri.put(store, ~p"/:stock/:wood/birch", 20)
    :ok = Khepri.put(store, ~p"/:stock/:metal/iron", 5)
    store
  end

  describe "worked examples" do
    test "E1: versions, no-op writes, old data and new versions", %{store: store} do
      assert {:ok, %{[:fruit] => %{payload_version: 1} = new}} =
               Adv.create(store, [:fruit], :apple)

      refute Map.has_key?(new, :data)

      assert Adv.put(store, [:fruit], :apple) ==
               {:ok, %{[:fruit] => %{data: :apple, payload_version: 1}}}

      assert Adv.put(store, [:fruit], :pear) ==
               {:ok, %{[:fruit] => %{data: :apple, payload_version: 2}}}

      assert Khepri.get(store, "/:fruit") == {:ok, :pear}

      assert Adv.delete(store, [:fruit]) ==
               {:ok, %{[:fruit] => %{data: :pear, payload_version: 2, delete_reason: :explicit}}}

      assert Adv.delete(store, [:fruit]) == {:ok, %{}}
    end

    test "E5: auto-created ancestors are reported as keep_while deletes", %{store: store} do
      :ok = Khepri.put(store, [:a, :b, :c], 1)

      assert Adv.delete(store, [:a, :b, :c]) ==
               {:ok,
                %{
                  [:a, :b, :c] => %{data: 1, payload_version: 1, delete_reason: :explicit},
                  [:a, :b] => %{payload_version: 1, delete_reason: :keep_while},
                  [:a] => %{payload_version: 1, delete_reason: :keep_while}
                }}

      assert Khepri.exists(store, [:a]) == false
    end

    test "E6: deleting a queue cascades to its binding", %{store: store} do
      :ok = Khepri.put(store, [:q, "q1"], :q1)

      :ok =
        Khepri.put(store, [:x, "x1", :bindings, "q1"], :b1, %{
          keep_while: %{[:q, "q1"] => if_node_exists(exists: true)}
        })

      assert {:ok, deleted} = Adv.delete(store, [:q, "q1"])

      assert deleted |> Map.keys() |> Enum.sort() == [
               [:q],
               [:q, "q1"],
               [:x],
               [:x, "x1"],
               [:x, "x1", :bindings],
               [:x, "x1", :bindings, "q1"]
             ]

      assert %{
               [:q, "q1"] => %{data: :q1, delete_reason: :explicit},
               [:q] => %{delete_reason: :keep_while},
               [:x, "x1", :bindings, "q1"] => %{data: :b1, delete_reason: :keep_while}
             } = deleted
    end

    test "E7: optimistic concurrency from the version read with Adv.get", %{store: store} do
      :ok = Khepri.put(store, [:fruit], :pear)
      assert {:ok, %{[:fruit] => %{payload_version: version}}} = Adv.get(store, [:fruit])

      guarded =
        Khepri.Path.combine_with_conditions([:fruit], [if_payload_version(version: version)])

      assert Adv.put(store, guarded, :fig) ==
               {:ok, %{[:fruit] => %{data: :pear, payload_version: version + 1}}}

      assert {:error, {:khepri, :mismatching_node, %{node_props: %{data: :fig}}}} =
               Adv.put(store, guarded, :date)
    end
  end

  describe "get and get_many" do
    test "default and requested properties", %{store: store} do
      stock(store)
      :ok = Khepri.put(store, ~p"/:procs/:hello", fn -> :hi end)

      assert Adv.get(store, ~p"/:stock/:wood/oak") ==
               {:ok, %{[:stock, :wood, "oak"] => %{data: 150, payload_version: 1}}}

      assert Adv.get(store, ~p"/:stock/:wood") ==
               {:ok, %{[:stock, :wood] => %{payload_version: 1}}}

      assert {:ok, %{[:procs, :hello] => %{sproc: hello, payload_version: 1}}} =
               Adv.get(store, "/:procs/:hello")

      assert hello.() == :hi

      assert Adv.get(store, ~p"/:stock/:wood", %{
               props_to_return: [
                 :payload_version,
                 :child_list_version,
                 :child_list_length,
                 :has_payload,
                 :raw_payload
               ]
             }) ==
               {:ok,
                %{
                  [:stock, :wood] => %{
                    payload_version: 1,
                    child_list_version: 2,
                    child_list_length: 2,
                    raw_payload: :"$__NO_PAYLOAD__"
                  }
                }}

      assert Adv.get(store, ~p"/:stock/:wood/oak", %{
               props_to_return: [:has_payload, :raw_payload]
             }) ==
               {:ok, %{[:stock, :wood, "oak"] => %{has_data: true, raw_payload: {:p_data, 150}}}}

      assert Adv.get(store, ~p"/:procs/:hello", %{props_to_return: [:has_payload]}) ==
               {:ok, %{[:procs, :hello] => %{is_sproc: true}}}

      assert Adv.get(store, ~p"/:stock/:wood/oak", %{props_to_return: []}) ==
               {:ok, %{[:stock, :wood, "oak"] => %{}}}
    end

    test "props_to_return: [:child_names]", %{store: store} do
      stock(store)

      assert {:ok, %{[:stock] => %{child_names: names}}} =
               Adv.get(store, [:stock], %{props_to_return: [:child_names]})

      assert Enum.sort(names) == [:metal, :wood]
    end

    test "the root node", %{store: store} do
      stock(store)

      assert Adv.get(store, [], %{props_to_return: [:payload_version, :child_list_length]}) ==
               {:ok, %{[] => %{payload_version: 1, child_list_length: 1}}}
    end

    test "missing node, failing condition, pattern", %{store: store} do
      stock(store)

      assert Adv.get(store, ~p"/:stock/:glass") ==
               {:error,
                {:khepri, :node_not_found,
                 %{node_name: :glass, node_path: [:stock, :glass], node_is_target: true}}}

      # SPEC 4.2 / 5d.1: an existing node failing the path's condition.
      guarded = Khepri.Path.combine_with_conditions(~p"/:stock/:wood", [if_has_data()])
      assert Adv.get(store, guarded) == {:ok, %{}}

      assert {:khepri_ex, :possibly_matching_many_nodes_denied, %{path: [:stock, star()]}} =
               khepri_ex(fn -> Adv.get(store, "/:stock/*") end)
    end

    test "get_many", %{store: store} do
      stock(store)

      assert Adv.get_many(store, "/:stock/*/*") ==
               {:ok,
                %{
                  [:stock, :wood, "oak"] => %{data: 150, payload_version: 1},
                  [:stock, :wood, "birch"] => %{data: 20, payload_version: 1},
                  [:stock, :metal, "iron"] => %{data: 5, payload_version: 1}
                }}

      assert Adv.get_many(store, [:stock, star()], %{props_to_return: [:child_list_length]}) ==
               {:ok,
                %{
                  [:stock, :wood] => %{child_list_length: 2},
                  [:stock, :metal] => %{child_list_length: 1}
                }}

      assert Adv.get_many(store, "/:nothing/*") == {:ok, %{}}

      assert {:ok, %{[] => %{payload_version: 1}, [:stock] => %{payload_version: 1}}} =
               Adv.get_many(store, "*", %{include_root_props: true})
    end
  end

  describe "writes" do
    test "put of a stored procedure reports the old payload", %{store: store} do
      hello = fn -> :hi end

      assert Adv.put(store, ~p"/:procs/:hello", hello) ==
               {:ok, %{[:procs, :hello] => %{payload_version: 1}}}

      assert Adv.put(store, ~p"/:procs/:hello", :data, %{}) ==
               {:ok, %{[:procs, :hello] => %{sproc: hello, payload_version: 2}}}
    end

    test "put with props_to_return", %{store: store} do
      :ok = Khepri.put(store, ~p"/:n/:m", 1)

      assert Adv.put(store, ~p"/:n/:m", 2, %{
               props_to_return: [
                 :payload_version,
                 :child_list_version,
                 :child_list_length,
                 :has_payload,
                 :raw_payload
               ]
             }) ==
               {:ok,
                %{
                  [:n, :m] => %{
                    payload_version: 2,
                    child_list_version: 1,
                    child_list_length: 0,
                    has_data: true,
                    raw_payload: {:p_data, 1}
                  }
                }}
    end

    test "writes with props_to_return: [] keep one empty map per node", %{store: store} do
      none = %{props_to_return: []}
      assert Adv.put(store, ~p"/:n/:m", 1, none) == {:ok, %{[:n, :m] => %{}}}
      assert Adv.put_many(store, "/*", 1, none) == {:ok, %{[:n] => %{}}}
      assert Adv.clear_payload(store, ~p"/:n", none) == {:ok, %{[:n] => %{}}}
      assert Adv.delete(store, ~p"/:n", none) == {:ok, %{[:n] => %{}, [:n, :m] => %{}}}
    end

    test "put_many reports every written node", %{store: store} do
      stock(store)

      assert Adv.put_many(store, "/:stock/*/*", 0) ==
               {:ok,
                %{
                  [:stock, :wood, "oak"] => %{data: 150, payload_version: 2},
                  [:stock, :wood, "birch"] => %{data: 20, payload_version: 2},
                  [:stock, :metal, "iron"] => %{data: 5, payload_version: 2}
                }}

      assert Adv.put_many(store, [:stock, star(), :price], 9, %{}) ==
               {:ok,
                %{
                  [:stock, :wood, :price] => %{payload_version: 1},
                  [:stock, :metal, :price] => %{payload_version: 1}
                }}

      assert Adv.put_many(store, [:stock, if_any(conditions: [:glass, :paper])], 1) ==
               {:ok, %{}}
    end

    test "create, update, compare_and_swap", %{store: store} do
      assert Adv.create(store, ~p"/:a", 1) == {:ok, %{[:a] => %{payload_version: 1}}}

      assert Adv.create(store, ~p"/:a", 2, %{}) ==
               {:error,
                {:khepri, :mismatching_node,
                 %{
                   node_name: :a,
                   node_path: [:a],
                   node_is_target: true,
                   condition: if_node_exists(exists: false),
                   node_props: %{data: 1, payload_version: 1}
                 }}}

      assert Adv.update(store, ~p"/:a", 2) ==
               {:ok, %{[:a] => %{data: 1, payload_version: 2}}}

      assert Adv.update(store, ~p"/:b", 2, %{}) ==
               {:error,
                {:khepri, :node_not_found,
                 %{
                   node_name: :b,
                   node_path: [:b],
                   node_is_target: true,
                   condition: if_all(conditions: [:b, if_node_exists(exists: true)])
                 }}}

      assert Adv.compare_and_swap(store, ~p"/:a", 1, 3) ==
               {:error,
                {:khepri, :mismatching_node,
                 %{
                   node_name: :a,
                   node_path: [:a],
                   node_is_target: true,
                   condition: if_data_matches(pattern: 1),
                   node_props: %{data: 2, payload_version: 2}
                 }}}

      assert {:error, {:khepri, :node_not_found, %{node_path: [:b]}}} =
               Adv.compare_and_swap(store, ~p"/:b", 1, 3, %{})
    end

    test "compare_and_swap with a data pattern", %{store: store} do
      :ok = Khepri.put(store, ~p"/:t", {:a, 1})

      assert Adv.compare_and_swap(store, ~p"/:t", {:a, :_}, {:a, 2}) ==
               {:ok, %{[:t] => %{data: {:a, 1}, payload_version: 2}}}

      assert {:error, {:khepri, :mismatching_node, %{node_props: %{data: {:a, 2}}}}} =
               Adv.compare_and_swap(store, ~p"/:t", {:b, :_}, {:b, 1})
    end

    test "delete reports the whole subtree as explicit", %{store: store} do
      :ok = Khepri.put(store, ~p"/:stock", :stock)
      stock(store)

      assert Adv.delete(store, ~p"/:stock/:wood") ==
               {:ok,
                %{
                  [:stock, :wood] => %{payload_version: 1, delete_reason: :explicit},
                  [:stock, :wood, "oak"] => %{
                    data: 150,
                    payload_version: 1,
                    delete_reason: :explicit
                  },
                  [:stock, :wood, "birch"] => %{
                    data: 20,
                    payload_version: 1,
                    delete_reason: :explicit
                  }
                }}

      assert Adv.delete(store, ~p"/:stock/:wood", %{}) == {:ok, %{}}
    end

    test "delete_many", %{store: store} do
      :ok = Khepri.put(store, ~p"/:stock", :stock)
      stock(store)

      assert Adv.delete_many(store, "/:stock/:wood/*") ==
               {:ok,
                %{
                  [:stock, :wood] => %{payload_version: 1, delete_reason: :keep_while},
                  [:stock, :wood, "oak"] => %{
                    data: 150,
                    payload_version: 1,
                    delete_reason: :explicit
                  },
                  [:stock, :wood, "birch"] => %{
                    data: 20,
                    payload_version: 1,
                    delete_reason: :explicit
                  }
                }}

      assert Adv.delete_many(store, "/:stock/*", %{props_to_return: [:delete_reason]}) ==
               {:ok,
                %{
                  [:stock, :metal] => %{delete_reason: :explicit},
                  [:stock, :metal, "iron"] => %{delete_reason: :explicit}
                }}

      assert Adv.delete_many(store, "/:nothing/*") == {:ok, %{}}
    end

    test "clear_payload and clear_many_payloads", %{store: store} do
      stock(store)

      assert Adv.clear_payload(store, ~p"/:stock/:wood/oak") ==
               {:ok, %{[:stock, :wood, "oak"] => %{data: 150, payload_version: 2}}}

      # Nothing left to clear: no version bump.
      assert Adv.clear_payload(store, ~p"/:stock/:wood/oak", %{}) ==
               {:ok, %{[:stock, :wood, "oak"] => %{payload_version: 2}}}

      assert Adv.clear_payload(store, ~p"/:nothing") == {:ok, %{}}

      assert Adv.clear_many_payloads(store, "/:stock/:wood/*") ==
               {:ok,
                %{
                  [:stock, :wood, "oak"] => %{payload_version: 2},
                  [:stock, :wood, "birch"] => %{data: 20, payload_version: 2}
                }}

      assert Adv.clear_many_payloads(store, "/:nothing/*", %{}) == {:ok, %{}}
    end

    test "keep_while cascades are listed, unless return_indirect_deletes is false",
         %{store: store} do
      keep = %{keep_while: %{[:dep] => if_has_data()}}
      :ok = Khepri.put(store, [:dep], 1)
      :ok = Khepri.put(store, [:w], :w, keep)

      assert Adv.clear_payload(store, [:dep]) ==
               {:ok,
                %{
                  [:dep] => %{data: 1, payload_version: 2},
                  [:w] => %{data: :w, payload_version: 1, delete_reason: :keep_while}
                }}

      :ok = Khepri.put(store, [:dep], 1)
      :ok = Khepri.put(store, [:w], :w, keep)

      assert Adv.put(store, [:dep], Khepri.Payload.none(), %{return_indirect_deletes: false}) ==
               {:ok, %{[:dep] => %{data: 1, payload_version: 4}}}

      assert Khepri.exists(store, [:w]) == false

      :ok = Khepri.put(store, [:q], 1)
      :ok = Khepri.put(store, [:b, :c], 1, %{keep_while: %{[:q] => if_node_exists(exists: true)}})

      assert Adv.delete(store, [:q], %{return_indirect_deletes: false}) ==
               {:ok, %{[:q] => %{data: 1, payload_version: 1, delete_reason: :explicit}}}

      assert Khepri.exists(store, [:b]) == false
    end
  end

  describe "errors" do
    test "{:error, :noproc} for a store that is not running" do
      store = :khepri_ex_not_running
      assert Adv.get(store, ~p"/:a") == {:error, :noproc}
      assert Adv.get_many(store, "*") == {:error, :noproc}
      assert Adv.put(store, ~p"/:a", 1) == {:error, :noproc}
      assert Adv.put_many(store, "*", 1) == {:error, :noproc}
      assert Adv.create(store, ~p"/:a", 1) == {:error, :noproc}
      assert Adv.update(store, ~p"/:a", 1) == {:error, :noproc}
      assert Adv.compare_and_swap(store, ~p"/:a", 1, 2) == {:error, :noproc}
      assert Adv.delete(store, ~p"/:a") == {:error, :noproc}
      assert Adv.delete_many(store, "*") == {:error, :noproc}
      assert Adv.clear_payload(store, ~p"/:a") == {:error, :noproc}
      assert Adv.clear_many_payloads(store, "*") == {:error, :noproc}
    end

    test "invalid_option and possibly_matching_many_nodes_denied", %{store: store} do
      bad = %{colour: :red}
      expected = {:khepri_ex, :invalid_option, %{option: :colour, value: :red}}

      for fun <- [
            fn -> Adv.get(store, ~p"/:a", bad) end,
            fn -> Adv.get_many(store, "*", bad) end,
            fn -> Adv.put(store, ~p"/:a", 1, bad) end,
            fn -> Adv.put_many(store, "*", 1, bad) end,
            fn -> Adv.create(store, ~p"/:a", 1, bad) end,
            fn -> Adv.update(store, ~p"/:a", 1, bad) end,
            fn -> Adv.compare_and_swap(store, ~p"/:a", 1, 2, bad) end,
            fn -> Adv.delete(store, ~p"/:a", bad) end,
            fn -> Adv.delete_many(store, "*", bad) end,
            fn -> Adv.clear_payload(store, ~p"/:a", bad) end,
            fn -> Adv.clear_many_payloads(store, "*", bad) end
          ] do
        assert khepri_ex(fun) == expected
      end

      assert khepri_ex(fn -> Adv.get(store, "/", %{props_to_return: :all}) end) ==
               {:khepri_ex, :invalid_option, %{option: :props_to_return, value: :all}}

      for fun <- [
            fn -> Adv.put(store, "/*", 1) end,
            fn -> Adv.create(store, "/*", 1) end,
            fn -> Adv.update(store, "/*", 1) end,
            fn -> Adv.compare_and_swap(store, "/*", 1, 2) end,
            fn -> Adv.delete(store, "/*") end,
            fn -> Adv.clear_payload(store, "/*") end
          ] do
        assert khepri_ex(fun) ==
                 {:khepri_ex, :possibly_matching_many_nodes_denied, %{path: [star()]}}
      end
    end
  end

  describe "cascades in results" do
    # SPEC 2.6: write results list every node removed by a keep_while
    # cascade, the written node too when its own keep_while stops holding.
    test "a node removed by its own keep_while is listed", %{store: store} do
      :ok = Khepri.put(store, [:kw], 1, %{keep_while: %{[this_node()] => if_has_data()}})

      assert {:ok, %{[:kw] => %{delete_reason: :keep_while}}} = Adv.clear_payload(store, [:kw])

      assert Khepri.exists(store, [:kw]) == false
    end
  end
end

defmodule KhepriAdvDefaultStoreTest do
  # Changes the application environment: not async.
  use ExUnit.Case, async: false

  import Khepri.Path, only: [sigil_p: 2]

  alias Khepri.Adv

  setup context, do: Khepri.TestStore.start_default(context)

  test "the forms without a store id use the default store", %{store: store} do
    assert Adv.put(~p"/:a", 1) == {:ok, %{[:a] => %{payload_version: 1}}}
    assert Adv.put(~p"/:a", 2, %{}) == {:ok, %{[:a] => %{data: 1, payload_version: 2}}}
    assert Adv.get(~p"/:a") == {:ok, %{[:a] => %{data: 2, payload_version: 2}}}
    assert Adv.get(~p"/:a", %{props_to_return: []}) == {:ok, %{[:a] => %{}}}
    assert Adv.get_many("/*") == {:ok, %{[:a] => %{data: 2, payload_version: 2}}}

    assert Adv.get_many("/*", %{props_to_return: [:payload_version]}) ==
             {:ok, %{[:a] => %{payload_version: 2}}}

    assert Adv.create(~p"/:b", 1) == {:ok, %{[:b] => %{payload_version: 1}}}
    assert Adv.create(~p"/:c", 1, %{}) == {:ok, %{[:c] => %{payload_version: 1}}}
    assert Adv.update(~p"/:b", 2) == {:ok, %{[:b] => %{data: 1, payload_version: 2}}}
    assert Adv.update(~p"/:c", 2, %{}) == {:ok, %{[:c] => %{data: 1, payload_version: 2}}}

    assert {:error, {:khepri, :mismatching_node, _}} = Adv.compare_and_swap(~p"/:b", 1, 3)
    assert {:error, {:khepri, :mismatching_node, _}} = Adv.compare_and_swap(~p"/:b", 1, 3, %{})

    assert {:ok, %{[:a] => _, [:b] => _, [:c] => _}} = Adv.put_many("/*", 0)
    assert {:ok, %{[:a] => _, [:b] => _, [:c] => _}} = Adv.put_many("/*", 1, %{})

    assert Adv.clear_payload(~p"/:a") == {:ok, %{[:a] => %{data: 1, payload_version: 5}}}
    assert Adv.clear_payload(~p"/:b", %{}) == {:ok, %{[:b] => %{data: 1, payload_version: 5}}}

    assert Adv.clear_many_payloads("/:c") == {:ok, %{[:c] => %{data: 1, payload_version: 5}}}
    assert Adv.clear_many_payloads("/:c", %{}) == {:ok, %{[:c] => %{payload_version: 5}}}

    assert Adv.delete(~p"/:a") ==
             {:ok, %{[:a] => %{payload_version: 5, delete_reason: :explicit}}}

    assert Adv.delete(~p"/:b", %{}) ==
             {:ok, %{[:b] => %{payload_version: 5, delete_reason: :explicit}}}

    :ok = Khepri.put(store, ~p"/:d", 1)

    assert Adv.delete_many("/:c") ==
             {:ok, %{[:c] => %{payload_version: 5, delete_reason: :explicit}}}

    assert Adv.delete_many("/*", %{}) ==
             {:ok, %{[:d] => %{data: 1, payload_version: 1, delete_reason: :explicit}}}

    assert Khepri.is_empty(store) == true
  end
end
