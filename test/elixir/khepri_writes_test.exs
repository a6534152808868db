defmodule KhepriWritesTest do
  use ExUnit.Case, async: true

  import Khepri.Condition
  import Khepri.Path, only: [sigil_p: 2, star: 0, star_star: 0, this_node: 0]

  setup context, do: Khepri.TestStore.start(context)

  defp khepri_ex(fun) do
    error = assert_raise ErlangError, fun
    error.original
  end

  defp payload_version(store, path) do
    {:ok, %{^path => %{payload_version: version}}} = Khepri.Adv.get(store, path)
    version
  end

  describe "put" do
    test "creates missing ancestors and replaces the payload", %{store: store} do
      assert Khepri.put(store, ~p"/:stock/:wood/oak", 150) == :ok
      assert Khepri.get(store, ~p"/:stock/:wood") == {:ok, :undefined}
      assert Khepri.put(store, "/:stock/:wood/oak", 151, %{}) == :ok
      assert Khepri.get(store, ~p"/:stock/:wood/oak") == {:ok, 151}
    end

    test "writing the same payload is a no-op (SPEC 4.1)", %{store: store} do
      :ok = Khepri.put(store, ~p"/:fruit", :apple)
      assert payload_version(store, [:fruit]) == 1
      :ok = Khepri.put(store, ~p"/:fruit", :apple)
      assert payload_version(store, [:fruit]) == 1
      :ok = Khepri.put(store, ~p"/:fruit", :pear)
      assert payload_version(store, [:fruit]) == 2
    end

    test "functions are stored procedures, Khepri.Payload.none/0 no payload", %{store: store} do
      :ok = Khepri.put(store, ~p"/:procs/:hello", fn -> :hi end)
      assert Khepri.is_sproc(store, ~p"/:procs/:hello") == true

      :ok = Khepri.put(store, ~p"/:dir", Khepri.Payload.none())
      assert Khepri.get(store, ~p"/:dir") == {:ok, :undefined}

      :ok = Khepri.put(store, ~p"/:fun_as_data", Khepri.Payload.data(&Enum.count/1))
      assert Khepri.has_data(store, ~p"/:fun_as_data") == true
      assert Khepri.get(store, ~p"/:fun_as_data") == {:ok, &Enum.count/1}
    end

    test "E7: optimistic concurrency with if_payload_version", %{store: store} do
      :ok = Khepri.put(store, ~p"/:fruit", :pear)
      version = payload_version(store, [:fruit])

      guarded =
        Khepri.Path.combine_with_conditions([:fruit], [if_payload_version(version: version)])

      assert Khepri.put(store, guarded, :fig) == :ok

      assert {:error,
              {:khepri, :mismatching_node,
               %{
                 node_name: :fruit,
                 node_path: [:fruit],
                 node_is_target: true,
                 condition: if_payload_version(version: ^version),
                 node_props: %{data: :fig, payload_version: 2}
               }}} = Khepri.put(store, guarded, :date)

      assert Khepri.get(store, ~p"/:fruit") == {:ok, :fig}
    end

    test "refuses patterns", %{store: store} do
      assert {:khepri_ex, :possibly_matching_many_nodes_denied, %{path: [:a, star()]}} =
               khepri_ex(fn -> Khepri.put(store, "/:a/*", 1) end)

      assert Khepri.exists(store, ~p"/:a") == false
    end
  end

  describe "create, update, compare_and_swap" do
    test "E2: conditional writes", %{store: store} do
      assert Khepri.put(store, [:fruit], :pear) == :ok

      assert {:error,
              {:khepri, :mismatching_node,
               %{
                 node_name: :fruit,
                 node_path: [:fruit],
                 node_is_target: true,
                 condition: if_node_exists(exists: false),
                 node_props: %{data: :pear, payload_version: 1}
               }}} = Khepri.create(store, [:fruit], :kiwi)

      assert Khepri.update(store, [:veg], :leek) ==
               {:error,
                {:khepri, :node_not_found,
                 %{
                   node_name: :veg,
                   node_path: [:veg],
                   node_is_target: true,
                   condition: if_all(conditions: [:veg, if_node_exists(exists: true)])
                 }}}

      assert {:error,
              {:khepri, :mismatching_node,
               %{
                 node_name: :fruit,
                 node_path: [:fruit],
                 node_is_target: true,
                 condition: if_data_matches(pattern: :apple),
                 node_props: %{data: :pear}
               }}} = Khepri.compare_and_swap(store, [:fruit], :apple, :plum)

      assert Khepri.get(store, [:fruit]) == {:ok, :pear}
    end

    test "E2: compare_and_swap on matching data", %{store: store} do
      :ok = Khepri.put(store, [:fruit], :pear)
      assert Khepri.compare_and_swap(store, [:fruit], :pear, :plum) == :ok
      assert Khepri.get(store, [:fruit]) == {:ok, :plum}

      # The data pattern is a match pattern.
      :ok = Khepri.put(store, ~p"/:t", {:a, 1})
      assert Khepri.compare_and_swap(store, ~p"/:t", {:a, :_}, {:a, 2}, %{}) == :ok
      assert Khepri.compare_and_swap!(store, ~p"/:t", {:a, :"$1"}, {:a, 3}) == :ok
      assert Khepri.get(store, ~p"/:t") == {:ok, {:a, 3}}
    end

    test "create and update succeed in their own cases", %{store: store} do
      assert Khepri.create(store, ~p"/:fruit", :apple) == :ok
      assert Khepri.create(store, ~p"/:box/:fruit", :fig, %{}) == :ok
      assert Khepri.get(store, ~p"/:fruit") == {:ok, :apple}
      assert Khepri.update(store, ~p"/:fruit", :pear) == :ok
      assert Khepri.update(store, "/:box/:fruit", :date, %{}) == :ok
      assert Khepri.get(store, ~p"/:fruit") == {:ok, :pear}
      assert Khepri.get(store, ~p"/:box/:fruit") == {:ok, :date}
    end

    test "update through a missing ancestor", %{store: store} do
      # Writes create missing plain-name ancestors (SPEC 4.2): the target is
      # what is missing, and the failed write leaves the tree unchanged.
      assert Khepri.update(store, ~p"/:box/:fruit", :fig) ==
               {:error,
                {:khepri, :node_not_found,
                 %{
                   node_name: :fruit,
                   node_path: [:box, :fruit],
                   node_is_target: true,
                   condition: if_all(conditions: [:fruit, if_node_exists(exists: true)])
                 }}}

      assert Khepri.exists(store, ~p"/:box") == false
    end

    test "compare_and_swap on a missing node", %{store: store} do
      assert {:error,
              {:khepri, :node_not_found,
               %{
                 node_name: :veg,
                 node_path: [:veg],
                 node_is_target: true,
                 condition: if_all(conditions: [:veg, if_data_matches(pattern: :leek)])
               }}} = Khepri.compare_and_swap(store, ~p"/:veg", :leek, :kale, %{})
    end

    test "refuse patterns", %{store: store} do
      for fun <- [
            fn -> Khepri.create(store, "/*", 1) end,
            fn -> Khepri.update(store, "/*", 1) end,
            fn -> Khepri.compare_and_swap(store, "/*", 1, 2) end
          ] do
        assert {:khepri_ex, :possibly_matching_many_nodes_denied, %{path: [star()]}} =
                 khepri_ex(fun)
      end
    end
  end

  describe "put_many" do
    test "writes every existing match", %{store: store} do
      :ok = Khepri.put(store, ~p"/:stock/:wood/oak", 150)
      :ok = Khepri.put(store, ~p"/:stock/:wood/birch", 20)
      :ok = Khepri.put(store, ~p"/:stock/:metal/iron", 5)

      assert Khepri.put_many(store, "/:stock/*/*", 0) == :ok

      assert Khepri.get_many(store, "/:stock/*/*") ==
               {:ok,
                %{
                  [:stock, :wood, "oak"] => 0,
                  [:stock, :wood, "birch"] => 0,
                  [:stock, :metal, "iron"] => 0
                }}
    end

    test "creates trailing names under each match (SPEC 4.2)", %{store: store} do
      :ok = Khepri.put(store, ~p"/:stock/:wood/oak", 150)
      :ok = Khepri.put(store, ~p"/:stock/:metal/iron", 5)

      assert Khepri.put_many(store, [:stock, star(), :price], 9, %{}) == :ok

      assert Khepri.get_many(store, "/:stock/*/:price") ==
               {:ok, %{[:stock, :wood, :price] => 9, [:stock, :metal, :price] => 9}}

      # Conditions only visit existing nodes.
      assert Khepri.put_many(store, [:stock, if_any(conditions: [:glass, :paper])], 1) == :ok

      assert Khepri.get_many(store, "/:stock/*") ==
               {:ok, %{[:stock, :wood] => :undefined, [:stock, :metal] => :undefined}}
    end

    test "a single node is a pattern too", %{store: store} do
      assert Khepri.put_many(store, ~p"/:a/:b", 1) == :ok
      assert Khepri.get(store, ~p"/:a/:b") == {:ok, 1}
    end
  end

  describe "delete and delete_many" do
    test "deleting a missing node is :ok", %{store: store} do
      assert Khepri.delete(store, ~p"/:nothing") == :ok
      assert Khepri.delete(store, ~p"/:nothing/:here", %{}) == :ok
      assert Khepri.delete_many(store, "/:nothing/*") == :ok
    end

    test "delete_many deletes every match and its subtree", %{store: store} do
      :ok = Khepri.put(store, ~p"/:stock", :stock)
      :ok = Khepri.put(store, ~p"/:stock/:wood/oak", 150)
      :ok = Khepri.put(store, ~p"/:stock/:wood/birch", 20)
      :ok = Khepri.put(store, ~p"/:stock/:metal/iron", 5)

      assert Khepri.delete_many(store, ~p"/:stock/:wood/*") == :ok
      # /:stock/:wood was created implicitly: it goes with its last child.
      assert Khepri.get_many(store, "**") ==
               {:ok,
                %{
                  [:stock] => :stock,
                  [:stock, :metal] => :undefined,
                  [:stock, :metal, "iron"] => 5
                }}

      assert Khepri.delete_many(store, "/:stock/*", %{}) == :ok
      assert Khepri.get_many(store, "**") == {:ok, %{[:stock] => :stock}}
    end

    test "delete_many(\"**\") empties the store, the root stays", %{store: store} do
      :ok = Khepri.put(store, [], :root)
      :ok = Khepri.put(store, ~p"/:a/:b", 1)
      :ok = Khepri.put(store, ~p"/:c", 2)

      assert Khepri.delete_many(store, [star_star()]) == :ok
      assert Khepri.is_empty(store) == true
      assert Khepri.exists(store, []) == true
      assert Khepri.count(store, "**") == {:ok, 0}
    end

    test "delete refuses patterns", %{store: store} do
      assert {:khepri_ex, :possibly_matching_many_nodes_denied, %{path: [star_star()]}} =
               khepri_ex(fn -> Khepri.delete(store, "**") end)
    end
  end

  describe "clear_payload and clear_many_payloads" do
    test "remove payloads, keep the nodes", %{store: store} do
      :ok = Khepri.put(store, ~p"/:stock/:wood", :wood)
      :ok = Khepri.put(store, ~p"/:stock/:wood/oak", 150)
      :ok = Khepri.put(store, ~p"/:stock/:wood/birch", 20)

      assert Khepri.clear_payload(store, ~p"/:stock/:wood") == :ok
      assert Khepri.get(store, ~p"/:stock/:wood") == {:ok, :undefined}
      assert Khepri.exists(store, ~p"/:stock/:wood/oak") == true

      assert Khepri.clear_many_payloads(store, ~p"/:stock/:wood/*") == :ok

      assert Khepri.get_many(store, ~p"/:stock/**") ==
               {:ok,
                %{
                  [:stock, :wood] => :undefined,
                  [:stock, :wood, "oak"] => :undefined,
                  [:stock, :wood, "birch"] => :undefined
                }}
    end

    test "a missing node or a node without payload is not an error", %{store: store} do
      :ok = Khepri.put(store, ~p"/:a/:b", 1)
      version = payload_version(store, [:a])

      assert Khepri.clear_payload(store, ~p"/:nothing") == :ok
      assert Khepri.clear_payload(store, ~p"/:nothing/:here", %{}) == :ok
      assert Khepri.exists(store, ~p"/:nothing") == false

      assert Khepri.clear_payload(store, ~p"/:a") == :ok
      assert payload_version(store, [:a]) == version

      assert Khepri.clear_many_payloads(store, "/:nothing/*", %{}) == :ok
    end

    test "clear_payload refuses patterns", %{store: store} do
      assert {:khepri_ex, :possibly_matching_many_nodes_denied, %{path: [star()]}} =
               khepri_ex(fn -> Khepri.clear_payload(store, "/*") end)
    end
  end

  describe "keep_while" do
    test "E5: auto-created ancestors are reclaimed, explicit targets are not",
         %{store: store} do
      :ok = Khepri.put(store, [:a, :b, :c], 1)
      :ok = Khepri.delete(store, [:a, :b, :c])
      assert Khepri.exists(store, [:a]) == false

      :ok = Khepri.put(store, [:dir], Khepri.Payload.none())
      :ok = Khepri.put(store, [:dir, :f], 1)
      :ok = Khepri.delete(store, [:dir, :f])
      assert Khepri.exists(store, [:dir]) == true
    end

    test "E6: a binding lives while its queue exists", %{store: store} do
      :ok = Khepri.put(store, [:q, "q1"], :q1)

      :ok =
        Khepri.put(store, [:x, "x1", :bindings, "q1"], :b1, %{
          keep_while: %{[:q, "q1"] => if_node_exists(exists: true)}
        })

      assert Khepri.delete(store, [:q, "q1"]) == :ok
      assert Khepri.exists(store, [:x, "x1", :bindings, "q1"]) == false
      assert Khepri.is_empty(store) == true
    end

    test "E6: keep_while_conditions_not_met", %{store: store} do
      assert Khepri.put(store, [:x, "x2"], :v, %{
               keep_while: %{[:q, "nope"] => if_node_exists(exists: true)}
             }) ==
               {:error,
                {:khepri, :keep_while_conditions_not_met,
                 %{
                   node_name: "x2",
                   node_path: [:x, "x2"],
                   keep_while_reason: {:pattern_matches_no_nodes, [:q, "nope"]}
                 }}}

      assert Khepri.exists(store, [:x]) == false
    end

    test "E6: a keep_while on the node's own child count", %{store: store} do
      :ok =
        Khepri.put(store, [:d2], Khepri.Payload.none(), %{
          keep_while: %{[this_node()] => if_child_list_length(count: {:gt, 0})}
        })

      # Not removed by the command creating it.
      assert Khepri.exists(store, [:d2]) == true
      :ok = Khepri.put(store, [:d2, :c], 1)
      :ok = Khepri.delete(store, [:d2, :c])
      assert Khepri.exists(store, [:d2]) == false
    end

    test "string and relative keys", %{store: store} do
      :ok = Khepri.put(store, ~p"/:users/alice", %{})

      :ok =
        Khepri.put(store, ~p"/:perms/alice", :rw, %{
          keep_while: %{"/:users/alice" => if_node_exists(exists: true)}
        })

      :ok =
        Khepri.put(store, ~p"/:users/alice/:avatar", :png, %{keep_while: %{".." => if_has_data()}})

      :ok = Khepri.clear_payload(store, ~p"/:users/alice")
      assert Khepri.exists(store, ~p"/:users/alice/:avatar") == false
      assert Khepri.exists(store, ~p"/:perms/alice") == true

      :ok = Khepri.delete(store, ~p"/:users/alice")
      assert Khepri.exists(store, ~p"/:perms/alice") == false
    end

    test "an invalid keep_while is an invalid_option", %{store: store} do
      assert {:khepri_ex, :invalid_option, %{option: :keep_while}} =
               khepri_ex(fn -> Khepri.put(store, ~p"/:a", 1, %{keep_while: :always}) end)
    end
  end

  describe "bang variants" do
    test "return :ok", %{store: store} do
      assert Khepri.put!(store, ~p"/:stock/:wood/oak", 150) == :ok
      assert Khepri.put!(store, ~p"/:stock/:wood/birch", 20, %{}) == :ok
      assert Khepri.create!(store, ~p"/:fruit", :apple) == :ok
      assert Khepri.create!(store, ~p"/:veg", :leek, %{}) == :ok
      assert Khepri.update!(store, ~p"/:fruit", :pear) == :ok
      assert Khepri.update!(store, ~p"/:veg", :kale, %{}) == :ok
      assert Khepri.put_many!(store, ~p"/:stock/:wood/*", 1) == :ok
      assert Khepri.put_many!(store, ~p"/:stock/:wood/*", 2, %{}) == :ok

      assert Khepri.get_many(store, ~p"/:stock/:wood/*") ==
               {:ok, %{[:stock, :wood, "oak"] => 2, [:stock, :wood, "birch"] => 2}}

      assert Khepri.clear_payload!(store, ~p"/:fruit") == :ok
      assert Khepri.clear_payload!(store, ~p"/:veg", %{}) == :ok
      assert Khepri.clear_many_payloads!(store, ~p"/:stock/:wood/*") == :ok
      assert Khepri.clear_many_payloads!(store, ~p"/:stock/:wood/*", %{}) == :ok
      assert Khepri.has_data(store, ~p"/:stock/:wood/oak") == false

      assert Khepri.delete!(store, ~p"/:fruit") == :ok
      assert Khepri.delete!(store, ~p"/:veg", %{}) == :ok
      assert Khepri.delete_many!(store, ~p"/:stock/:wood/*") == :ok
      assert Khepri.delete_many!(store, ~p"/:stock/*", %{}) == :ok
      assert Khepri.is_empty(store) == true
    end

    test "raise Khepri.Error with name and props", %{store: store} do
      :ok = Khepri.put(store, ~p"/:fruit", :pear)

      error = assert_raise Khepri.Error, fn -> Khepri.create!(store, ~p"/:fruit", :kiwi) end
      assert error.name == :mismatching_node

      assert %{
               node_path: [:fruit],
               condition: if_node_exists(exists: false),
               node_props: %{data: :pear}
             } = error.props

      assert {:khepri, :mismatching_node, props} = error.reason
      assert props == error.props

      error = assert_raise Khepri.Error, fn -> Khepri.update!(store, ~p"/:veg", :leek, %{}) end
      assert %Khepri.Error{name: :node_not_found, props: %{node_path: [:veg]}} = error

      error =
        assert_raise Khepri.Error, fn ->
          Khepri.compare_and_swap!(store, ~p"/:fruit", :apple, :plum)
        end

      assert %Khepri.Error{name: :mismatching_node, props: %{condition: if_data_matches()}} =
               error

      error =
        assert_raise Khepri.Error, fn ->
          Khepri.put!(store, ~p"/:x", 1, %{
            keep_while: %{"/:nope" => if_node_exists(exists: true)}
          })
        end

      assert error.name == :keep_while_conditions_not_met
      assert error.props.keep_while_reason == {:pattern_matches_no_nodes, [:nope]}
    end

    test "raise Khepri.Error for :noproc" do
      store = :khepri_ex_not_running

      for fun <- [
            fn -> Khepri.put!(store, ~p"/:a", 1) end,
            fn -> Khepri.put_many!(store, "*", 1) end,
            fn -> Khepri.create!(store, ~p"/:a", 1) end,
            fn -> Khepri.update!(store, ~p"/:a", 1) end,
            fn -> Khepri.compare_and_swap!(store, ~p"/:a", 1, 2) end,
            fn -> Khepri.delete!(store, ~p"/:a") end,
            fn -> Khepri.delete_many!(store, "*") end,
            fn -> Khepri.clear_payload!(store, ~p"/:a") end,
            fn -> Khepri.clear_many_payloads!(store, "*") end
          ] do
        assert %Khepri.Error{reason: :noproc, name: nil, props: nil} =
                 assert_raise(Khepri.Error, fun)
      end
    end

    test "let other exceptions through unchanged", %{store: store} do
      assert {:khepri_ex, :possibly_matching_many_nodes_denied, %{path: [star()]}} =
               khepri_ex(fn -> Khepri.put!(store, "/*", 1) end)

      assert {:khepri_ex, :invalid_option, %{option: :colour, value: :red}} =
               khepri_ex(fn -> Khepri.delete!(store, ~p"/:a", %{colour: :red}) end)

      assert {:khepri_ex, :invalid_path, %{path: [:a, 1]}} =
               khepri_ex(fn -> Khepri.create!(store, [:a, 1], :v) end)
    end
  end

  describe "errors" do
    test "{:error, :noproc} for a store that is not running" do
      store = :khepri_ex_not_running
      assert Khepri.put_many(store, "*", 1) == {:error, :noproc}
      assert Khepri.create(store, ~p"/:a", 1) == {:error, :noproc}
      assert Khepri.update(store, ~p"/:a", 1) == {:error, :noproc}
      assert Khepri.compare_and_swap(store, ~p"/:a", 1, 2) == {:error, :noproc}
      assert Khepri.delete_many(store, "*") == {:error, :noproc}
      assert Khepri.clear_payload(store, ~p"/:a") == {:error, :noproc}
      assert Khepri.clear_many_payloads(store, "*") == {:error, :noproc}
    end

    test "invalid_option for an unknown key or a bad value", %{store: store} do
      bad = %{colour: :red}
      expected = {:khepri_ex, :invalid_option, %{option: :colour, value: :red}}

      for fun <- [
            fn -> Khepri.put(store, ~p"/:a", 1, bad) end,
            fn -> Khepri.put_many(store, "*", 1, bad) end,
            fn -> Khepri.create(store, ~p"/:a", 1, bad) end,
            fn -> Khepri.update(store, ~p"/:a", 1, bad) end,
            fn -> Khepri.compare_and_swap(store, ~p"/:a", 1, 2, bad) end,
            fn -> Khepri.delete(store, ~p"/:a", bad) end,
            fn -> Khepri.delete_many(store, "*", bad) end,
            fn -> Khepri.clear_payload(store, ~p"/:a", bad) end,
            fn -> Khepri.clear_many_payloads(store, "*", bad) end
          ] do
        assert khepri_ex(fun) == expected
      end

      assert khepri_ex(fn -> Khepri.delete(store, ~p"/:a", %{async: :later}) end) ==
               {:khepri_ex, :invalid_option, %{option: :async, value: :later}}

      assert khepri_ex(fn -> Khepri.put(store, ~p"/:a", 1, %{timeout: -1}) end) ==
               {:khepri_ex, :invalid_option, %{option: :timeout, value: -1}}

      # Nothing was written.
      assert Khepri.is_empty(store) == true
    end

    test "a known key that does not apply is ignored (SPEC 1.3)", %{store: store} do
      assert Khepri.put(store, ~p"/:a", 1, %{favor: :consistency, include_root_props: true}) ==
               :ok

      assert Khepri.delete(store, ~p"/:a", %{keep_while: %{}}) == :ok
      assert Khepri.is_empty(store) == true
    end

    test "invalid_path and invalid_payload", %{store: store} do
      assert {:khepri_ex, :invalid_path, %{path: [:a, 1], component: 1}} =
               khepri_ex(fn -> Khepri.put_many(store, [:a, 1], :v) end)

      assert {:khepri_ex, :invalid_payload, %{path: [:a], payload: {:p_sproc, :not_a_fun, :rw}}} =
               khepri_ex(fn -> Khepri.put(store, [:a], {:p_sproc, :not_a_fun, :rw}) end)
    end
  end

  describe "export and import" do
    test "E12: round trip through Khepri.ExportErlang", %{store: store, dir: dir} do
      file = Path.join(dir, "cfg.backup")
      :ok = Khepri.put(store, [:cfg, "a"], 1)

      assert Khepri.export(store, "/:cfg/**", Khepri.ExportErlang, file) == :ok
      assert :file.consult(file) == {:ok, [{:put, [:cfg, "a"], {:p_data, 1}, %{}}]}

      %{store: other} = Khepri.TestStore.start()
      assert Khepri.import(other, Khepri.ExportErlang, file) == :ok
      assert Khepri.get(other, [:cfg, "a"]) == {:ok, 1}

      assert Khepri.export(:khepri_ex_not_running, Khepri.ExportErlang, file) ==
               {:error, :noproc}
    end
  end
end

defmodule KhepriWritesDefaultStoreTest do
  # Changes the application environment: not async.
  use ExUnit.Case, async: false

  import Khepri.Path, only: [sigil_p: 2]

  setup context, do: Khepri.TestStore.start_default(context)

  test "the forms without a store id use the default store", %{store: store} do
    assert Khepri.put(~p"/:fruit", :apple) == :ok
    assert Khepri.put(~p"/:fruit", :pear, %{}) == :ok
    assert Khepri.create(~p"/:veg", :leek) == :ok
    assert Khepri.create(~p"/:nut", :pecan, %{}) == :ok
    assert {:error, {:khepri, :mismatching_node, _}} = Khepri.create(~p"/:veg", :kale)
    assert Khepri.update(~p"/:veg", :kale) == :ok
    assert Khepri.update(~p"/:nut", :hazel, %{}) == :ok

    assert {:error, {:khepri, :mismatching_node, _}} =
             Khepri.compare_and_swap(~p"/:veg", :leek, 1)

    assert {:error, {:khepri, :mismatching_node, _}} =
             Khepri.compare_and_swap(~p"/:veg", :leek, 1, %{})

    assert Khepri.get_many(store, "/*") ==
             {:ok, %{[:fruit] => :pear, [:veg] => :kale, [:nut] => :hazel}}

    assert Khepri.put_many("/*", 0) == :ok
    assert Khepri.put_many("/*", 1, %{}) == :ok
    assert Khepri.clear_payload(~p"/:fruit") == :ok
    assert Khepri.clear_payload(~p"/:veg", %{}) == :ok
    assert Khepri.clear_many_payloads("/*") == :ok
    assert Khepri.clear_many_payloads("/*", %{}) == :ok

    assert Khepri.get_many(store, "/*") ==
             {:ok, %{[:fruit] => :undefined, [:veg] => :undefined, [:nut] => :undefined}}

    assert Khepri.delete(~p"/:fruit") == :ok
    assert Khepri.delete(~p"/:veg", %{}) == :ok
    assert Khepri.delete_many("/*") == :ok
    :ok = Khepri.put(store, ~p"/:a", 1)
    assert Khepri.delete_many("/*", %{}) == :ok
    assert Khepri.is_empty(store) == true
  end

  test "bang variants without a store id", %{store: store} do
    assert Khepri.put!(~p"/:fruit", :apple) == :ok
    assert Khepri.put!(~p"/:fruit", :pear, %{}) == :ok
    assert Khepri.create!(~p"/:veg", :leek) == :ok
    assert Khepri.create!(~p"/:nut", :pecan, %{}) == :ok
    assert Khepri.update!(~p"/:veg", :kale) == :ok
    assert Khepri.update!(~p"/:nut", :hazel, %{}) == :ok
    assert_raise Khepri.Error, fn -> Khepri.compare_and_swap!(~p"/:veg", :leek, 1) end
    assert_raise Khepri.Error, fn -> Khepri.compare_and_swap!(~p"/:veg", :leek, 1, %{}) end
    assert Khepri.put_many!("/*", 0) == :ok
    assert Khepri.put_many!("/*", 1, %{}) == :ok
    assert Khepri.clear_payload!(~p"/:fruit") == :ok
    assert Khepri.clear_payload!(~p"/:veg", %{}) == :ok
    assert Khepri.clear_many_payloads!("/*") == :ok
    assert Khepri.clear_many_payloads!("/*", %{}) == :ok
    assert Khepri.delete!(~p"/:fruit") == :ok
    assert Khepri.delete!(~p"/:veg", %{}) == :ok
    assert Khepri.delete_many!("/*") == :ok
    :ok = Khepri.put(store, ~p"/:a", 1)
    assert Khepri.delete_many!("/*", %{}) == :ok
    assert Khepri.is_empty(store) == true

    error = assert_raise Khepri.Error, fn -> Khepri.update!(~p"/:veg", :leek) end
    assert error.name == :node_not_found
  end

  test "export and import without a store id", %{store: store, dir: dir} do
    file = Path.join(dir, "all.backup")
    :ok = Khepri.put(store, ~p"/:a", 1)
    :ok = Khepri.put(store, ~p"/:b", 2)

    assert Khepri.export(Khepri.ExportErlang, file) == :ok

    assert {:ok, [{:put, [:a], {:p_data, 1}, %{}}, {:put, [:b], {:p_data, 2}, %{}}]} =
             :file.consult(file)

    assert Khepri.export(~p"/:b", Khepri.ExportErlang, file) == :ok
    assert :file.consult(file) == {:ok, [{:put, [:b], {:p_data, 2}, %{}}]}

    :ok = Khepri.delete_many(store, "**")
    assert Khepri.import(Khepri.ExportErlang, file) == :ok
    assert Khepri.get_many(store, "**") == {:ok, %{[:b] => 2}}
  end
end
