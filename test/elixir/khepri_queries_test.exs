defmodule KhepriQueriesTest do
  use ExUnit.Case, async: true

  import Khepri.Condition
  import Khepri.Path, only: [sigil_p: 2, star: 0, star_star: 0]

  setup context, do: Khepri.TestStore.start(context)

  # SPEC 4.12 E3: [zoo, cats, <<"tom">>] = 3, [zoo, dogs, <<"rex">>] = 5.
  defp zoo(store) do
    :ok = Khepri.put(store, [:zoo, :cats, "tom"], 3)
    :ok = Khepri.put(store, [:zoo, :dogs, "rex"], 5)
    store
  end

  # oak = 150 and birch = 20 under /:stock/:wood, iron = 5 under /:stock/:metal,
  # and a stored procedure at /:procs/:hello.
  defp stock(store) do
    :ok = Khepri.put(store, ~p"/:stock/:wood/oak", 150)
    :ok = Khepri.put(store, ~p"/:stock/:wood/birch", 20)
    :ok = Khepri.put(store, ~p"/:stock/:metal/iron", 5)
    :ok = Khepri.put(store, ~p"/:procs/:hello", fn -> :hi end)
    store
  end

  defp khepri_ex(fun) do
    error = assert_raise ErlangError, fun
    error.original
  end

  describe "get" do
    test "E3: a node without payload and a pattern", %{store: store} do
      zoo(store)
      assert Khepri.get(store, [:zoo, :cats]) == {:ok, :undefined}
      assert Khepri.get(store, "/:zoo/:cats/tom") == {:ok, 3}
      assert Khepri.get(store, ~p"/:zoo/:dogs/rex", %{}) == {:ok, 5}

      assert {:khepri_ex, :possibly_matching_many_nodes_denied, %{path: [:zoo, star()]}} =
               khepri_ex(fn -> Khepri.get(store, "/:zoo/*") end)
    end

    test "a stored procedure is returned as its fun", %{store: store} do
      stock(store)
      assert {:ok, fun} = Khepri.get(store, ~p"/:procs/:hello")
      assert fun.() == :hi
    end

    test "a condition that targets one node is accepted", %{store: store} do
      stock(store)

      assert Khepri.get(store, [:stock, :wood, if_all(conditions: ["oak", if_has_data()])]) ==
               {:ok, 150}

      assert Khepri.get(store, [:stock, if_any(conditions: [:wood]), "oak"]) == {:ok, 150}
    end

    test "a node failing the path's condition is not found (SPEC 5d.1)", %{store: store} do
      stock(store)
      path = Khepri.Path.combine_with_conditions(~p"/:stock/:wood", [if_has_data()])

      assert {:error,
              {:khepri, :node_not_found,
               %{
                 node_name: :wood,
                 node_path: [:stock, :wood],
                 node_is_target: true,
                 condition: if_all(conditions: [:wood, if_has_data()])
               }}} = Khepri.get(store, path)
    end

    test "E4: a data condition failing on an existing node", %{store: store} do
      :ok = Khepri.put(store, [:fruit], :pear)
      path = Khepri.Path.combine_with_conditions([:fruit], [if_data_matches(pattern: :apple)])

      assert Khepri.exists(store, path) == false

      assert {:error, {:khepri, :node_not_found, %{node_path: [:fruit], node_is_target: true}}} =
               Khepri.get(store, path)

      assert Khepri.get_or(store, path, :dflt) == {:ok, :dflt}
      assert Khepri.Adv.get(store, path) == {:ok, %{}}

      matching = Khepri.Path.combine_with_conditions([:fruit], [if_data_matches(pattern: :pear)])
      assert Khepri.get(store, matching) == {:ok, :pear}
      assert Khepri.get_many(store, [if_data_matches(pattern: :_)]) == {:ok, %{[:fruit] => :pear}}
    end
  end

  describe "get_or" do
    test "E3: default for a missing node", %{store: store} do
      zoo(store)
      assert Khepri.get_or(store, [:zoo, :birds], :none) == {:ok, :none}
      assert Khepri.get_or(store, [:zoo, :birds, :owls], :none) == {:ok, :none}
      assert Khepri.get_or(store, [:zoo, :cats, "tom"], :none) == {:ok, 3}
      assert Khepri.get_or(store, "/:zoo/:cats/tom", :none, %{}) == {:ok, 3}
    end

    test "default for a node without payload or failing the path's condition",
         %{store: store} do
      stock(store)
      assert Khepri.get_or(store, ~p"/:stock/:wood", 0) == {:ok, 0}

      guarded =
        Khepri.Path.combine_with_conditions(~p"/:stock/:wood/oak", [
          if_payload_version(version: 42)
        ])

      assert Khepri.get_or(store, guarded, 0, %{}) == {:ok, 0}
    end

    test "refuses patterns", %{store: store} do
      assert {:khepri_ex, :possibly_matching_many_nodes_denied, %{path: _}} =
               khepri_ex(fn -> Khepri.get_or(store, "/:stock/*", 0) end)
    end
  end

  describe "get_many" do
    test "E3: string and native patterns", %{store: store} do
      zoo(store)

      assert Khepri.get_many(store, "/:zoo/*/*") ==
               {:ok, %{[:zoo, :cats, "tom"] => 3, [:zoo, :dogs, "rex"] => 5}}

      assert Khepri.get_many(store, [:zoo, star(), star()], %{}) ==
               {:ok, %{[:zoo, :cats, "tom"] => 3, [:zoo, :dogs, "rex"] => 5}}

      assert Khepri.get_many(store, "/:nothing/*") == {:ok, %{}}
    end

    test "nodes without payload are :undefined, stored procedures their fun",
         %{store: store} do
      stock(store)
      assert {:ok, map} = Khepri.get_many(store, ~p"/**")

      assert %{
               [:stock] => :undefined,
               [:stock, :wood] => :undefined,
               [:stock, :wood, "oak"] => 150,
               [:stock, :wood, "birch"] => 20,
               [:stock, :metal] => :undefined,
               [:stock, :metal, "iron"] => 5,
               [:procs] => :undefined,
               [:procs, :hello] => hello
             } = map

      assert map_size(map) == 8
      assert hello.() == :hi
    end

    test "globs, regexes and if_any", %{store: store} do
      stock(store)
      assert Khepri.get_many(store, "/:stock/:wood/o*") == {:ok, %{[:stock, :wood, "oak"] => 150}}

      assert Khepri.get_many(store, [:stock, :wood, if_name_matches(regex: "^b")]) ==
               {:ok, %{[:stock, :wood, "birch"] => 20}}

      assert Khepri.get_many(store, [:stock, star(), if_any(conditions: ["oak", "iron"])]) ==
               {:ok, %{[:stock, :wood, "oak"] => 150, [:stock, :metal, "iron"] => 5}}

      assert Khepri.get_many(store, [:stock, star_star(), if_has_data()]) ==
               {:ok,
                %{
                  [:stock, :wood, "oak"] => 150,
                  [:stock, :wood, "birch"] => 20,
                  [:stock, :metal, "iron"] => 5
                }}
    end

    test "the root only for [] or include_root_props", %{store: store} do
      :ok = Khepri.put(store, ~p"/:a", 1)
      assert Khepri.get_many(store, []) == {:ok, %{[] => :undefined}}
      assert Khepri.get_many(store, "**") == {:ok, %{[:a] => 1}}

      assert Khepri.get_many(store, "**", %{include_root_props: true}) ==
               {:ok, %{[] => :undefined, [:a] => 1}}
    end
  end

  describe "get_many_or" do
    test "default for nodes without payload", %{store: store} do
      stock(store)

      assert Khepri.get_many_or(store, ~p"/:stock/**", :none) ==
               {:ok,
                %{
                  [:stock, :wood] => :none,
                  [:stock, :wood, "oak"] => 150,
                  [:stock, :wood, "birch"] => 20,
                  [:stock, :metal] => :none,
                  [:stock, :metal, "iron"] => 5
                }}

      assert Khepri.get_many_or(store, "/:stock/*", :none, %{}) ==
               {:ok, %{[:stock, :wood] => :none, [:stock, :metal] => :none}}

      assert Khepri.get_many_or(store, "/:nothing/*", :none) == {:ok, %{}}
    end
  end

  describe "run_sproc" do
    test "runs the stored function in the caller", %{store: store} do
      :ok = Khepri.put(store, ~p"/:procs/:add", fn a, b -> a + b end)
      :ok = Khepri.put(store, ~p"/:procs/:me", fn -> self() end)
      assert Khepri.run_sproc(store, ~p"/:procs/:add", [1, 2]) == 3
      assert Khepri.run_sproc(store, ~p"/:procs/:add", [1, 2], %{}) == 3
      assert Khepri.run_sproc(store, ~p"/:procs/:me", []) == self()
    end

    test "throws for a node without a sproc or that cannot be read", %{store: store} do
      :ok = Khepri.put(store, ~p"/:stock/:oak", 150)

      assert {:khepri_ex, :denied_execution_of_non_sproc_node,
              %{path: [:stock, :oak], args: [], node_props: %{data: 150}}} =
               catch_throw(Khepri.run_sproc(store, ~p"/:stock/:oak", []))

      assert {:khepri, :failed_to_get_sproc,
              %{path: [:nothing], args: [1], error: {:khepri, :node_not_found, _}}} =
               catch_throw(Khepri.run_sproc(store, ~p"/:nothing", [1]))
    end
  end

  describe "exists, has_data, is_sproc" do
    test "booleans, false for missing nodes", %{store: store} do
      stock(store)

      assert Khepri.exists(store, ~p"/:stock/:wood") == true
      assert Khepri.exists(store, ~p"/:stock/:glass") == false
      assert Khepri.exists(store, ~p"/:stock/:glass/pane", %{}) == false

      assert Khepri.has_data(store, ~p"/:stock/:wood/oak") == true
      assert Khepri.has_data(store, ~p"/:stock/:wood") == false
      assert Khepri.has_data(store, ~p"/:procs/:hello") == false
      assert Khepri.has_data(store, ~p"/:stock/:glass/pane", %{}) == false

      assert Khepri.is_sproc(store, ~p"/:procs/:hello") == true
      assert Khepri.is_sproc(store, ~p"/:stock/:wood/oak") == false
      assert Khepri.is_sproc(store, ~p"/:procs") == false
      assert Khepri.is_sproc(store, ~p"/:procs/:bye", %{}) == false
    end

    test "false for a node failing the path's condition (SPEC 5d.1)", %{store: store} do
      stock(store)
      guarded = Khepri.Path.combine_with_conditions(~p"/:stock/:wood", [if_has_data()])
      assert Khepri.exists(store, guarded) == false
      assert Khepri.has_data(store, guarded) == false
      assert Khepri.is_sproc(store, guarded) == false
    end

    test "refuse patterns", %{store: store} do
      for fun <- [&Khepri.exists/2, &Khepri.has_data/2, &Khepri.is_sproc/2] do
        assert {:khepri_ex, :possibly_matching_many_nodes_denied, %{path: [:stock, star()]}} =
                 khepri_ex(fn -> fun.(store, "/:stock/*") end)
      end
    end
  end

  describe "count" do
    test "E3", %{store: store} do
      zoo(store)
      assert Khepri.count(store, "/:zoo/*/*") == {:ok, 2}
      assert Khepri.count(store, [:zoo, star_star()]) == {:ok, 4}
      assert Khepri.count(store, ~p"/:zoo/*", %{}) == {:ok, 2}
      assert Khepri.count(store, "/:nothing/*") == {:ok, 0}
    end

    test "the root counts for [] or with include_root_props", %{store: store} do
      assert Khepri.count(store, []) == {:ok, 1}
      assert Khepri.count(store, "**") == {:ok, 0}
      assert Khepri.count(store, "**", %{include_root_props: true}) == {:ok, 1}

      zoo(store)
      assert Khepri.count(store, "/") == {:ok, 1}
      assert Khepri.count(store, "**") == {:ok, 5}
      assert Khepri.count(store, "**", %{include_root_props: true}) == {:ok, 6}
      assert Khepri.count(store, "**", %{favor: :low_latency}) == {:ok, 5}
    end

    test "expect_specific_node is forced to false", %{store: store} do
      zoo(store)
      assert Khepri.count(store, "/:zoo/*", %{expect_specific_node: true}) == {:ok, 2}
    end
  end

  describe "fold, foreach, map, filter" do
    test "fold passes each match's default props", %{store: store} do
      stock(store)

      assert {:ok, acc} =
               Khepri.fold(
                 store,
                 ~p"/:stock/*/*",
                 fn path, props, acc -> [{path, props} | acc] end,
                 []
               )

      assert Enum.sort(acc) == [
               {[:stock, :metal, "iron"], %{data: 5, payload_version: 1}},
               {[:stock, :wood, "birch"], %{data: 20, payload_version: 1}},
               {[:stock, :wood, "oak"], %{data: 150, payload_version: 1}}
             ]

      sum = fn _path, props, sum -> sum + Map.get(props, :data, 0) end
      assert Khepri.fold(store, ~p"/:stock/**", sum, 0, %{}) == {:ok, 175}
      assert Khepri.fold(store, "/:nothing/*", sum, :untouched) == {:ok, :untouched}
    end

    test "fold visits parents before their children", %{store: store} do
      stock(store)
      {:ok, visited} = Khepri.fold(store, ~p"/:stock/**", fn path, _, acc -> [path | acc] end, [])
      visited = Enum.reverse(visited)
      assert length(visited) == 5

      for {path, i} <- Enum.with_index(visited),
          {ancestor, j} <- Enum.with_index(visited),
          ancestor != path and List.starts_with?(path, ancestor) do
        assert j < i, "#{inspect(ancestor)} visited after #{inspect(path)}"
      end
    end

    test "fold with props_to_return", %{store: store} do
      stock(store)

      assert {:ok, props} =
               Khepri.fold(
                 store,
                 ~p"/:stock/*",
                 fn path, props, acc -> Map.put(acc, path, props) end,
                 %{},
                 %{props_to_return: [:child_list_length, :has_payload, :payload_version]}
               )

      assert props == %{
               [:stock, :wood] => %{child_list_length: 2, payload_version: 1},
               [:stock, :metal] => %{child_list_length: 1, payload_version: 1}
             }
    end

    test "fold with props_to_return: [:child_names]", %{store: store} do
      stock(store)

      assert {:ok, props} =
               Khepri.fold(
                 store,
                 ~p"/:stock/*",
                 fn path, props, acc -> Map.put(acc, path, props) end,
                 %{},
                 %{props_to_return: [:child_names]}
               )

      assert %{
               [:stock, :wood] => %{child_names: wood},
               [:stock, :metal] => %{child_names: ["iron"]}
             } = props

      assert Enum.sort(wood) == ["birch", "oak"]
    end

    test "callbacks run in the calling process and may call the store", %{store: store} do
      stock(store)
      me = self()

      assert {:ok, prices} =
               Khepri.fold(
                 store,
                 ~p"/:stock/:wood/*",
                 fn path, _props, acc ->
                   assert self() == me
                   # A synchronous store call from the callback (SPEC 5d.9).
                   {:ok, price} = Khepri.get(store, path)
                   [price | acc]
                 end,
                 []
               )

      assert Enum.sort(prices) == [20, 150]

      assert :ok =
               Khepri.foreach(store, ~p"/:stock/:wood/*", fn path, _ ->
                 :ok = Khepri.put(store, [:seen | path], true)
               end)

      assert Khepri.count(store, ~p"/:seen/**") == {:ok, 4}
    end

    test "an exception raised by a callback propagates", %{store: store} do
      stock(store)

      assert_raise RuntimeError, "boom", fn ->
        Khepri.fold(store, "/:stock/*", fn _, _, _ -> raise "boom" end, nil)
      end

      assert catch_throw(Khepri.map(store, "/:stock/*", fn _, _ -> throw(:stop) end)) == :stop
    end

    test "foreach returns :ok", %{store: store} do
      stock(store)
      me = self()

      assert Khepri.foreach(store, ~p"/:stock/*/*", fn path, props -> send(me, {path, props}) end) ==
               :ok

      assert_received {[:stock, :wood, "oak"], %{data: 150, payload_version: 1}}
      assert_received {[:stock, :wood, "birch"], %{data: 20, payload_version: 1}}
      assert_received {[:stock, :metal, "iron"], %{data: 5, payload_version: 1}}
      refute_received _

      assert Khepri.foreach(store, "/:nothing/*", fn _, _ -> flunk("called") end, %{}) == :ok
    end

    test "map returns the callback's results by path", %{store: store} do
      stock(store)

      assert Khepri.map(store, ~p"/:stock/*/*", fn path, props -> {length(path), props.data} end) ==
               {:ok,
                %{
                  [:stock, :wood, "oak"] => {3, 150},
                  [:stock, :wood, "birch"] => {3, 20},
                  [:stock, :metal, "iron"] => {3, 5}
                }}

      assert Khepri.map(store, "/:stock/*", fn _, props -> props end, %{
               props_to_return: [:child_list_length]
             }) ==
               {:ok,
                %{
                  [:stock, :wood] => %{child_list_length: 2},
                  [:stock, :metal] => %{child_list_length: 1}
                }}

      assert Khepri.map(store, "/:nothing/*", fn _, _ -> flunk("called") end) == {:ok, %{}}
    end

    test "filter returns the payloads of the selected nodes", %{store: store} do
      stock(store)

      assert Khepri.filter(store, ~p"/:stock/*/*", fn _path, props -> props.data > 10 end) ==
               {:ok, %{[:stock, :wood, "oak"] => 150, [:stock, :wood, "birch"] => 20}}

      assert Khepri.filter(store, ~p"/:stock/*", fn _path, _props -> true end) ==
               {:ok, %{[:stock, :wood] => :undefined, [:stock, :metal] => :undefined}}

      assert Khepri.filter(store, ~p"/:stock/*", fn [_, name], _ -> name == :wood end, %{}) ==
               {:ok, %{[:stock, :wood] => :undefined}}

      assert Khepri.filter(store, "/:stock/**", fn _, _ -> false end) == {:ok, %{}}
    end

    test "callbacks of the wrong arity are refused", %{store: store} do
      assert_raise FunctionClauseError, fn -> Khepri.fold(store, "*", fn _, _ -> :ok end, 0) end
      assert_raise FunctionClauseError, fn -> Khepri.foreach(store, "*", fn _ -> :ok end) end
    end
  end

  describe "is_empty" do
    test "true until the root has a child", %{store: store} do
      assert Khepri.is_empty(store) == true
      assert Khepri.is_empty(store, %{}) == true

      :ok = Khepri.put(store, [], :root_payload)
      assert Khepri.is_empty(store) == true

      :ok = Khepri.put(store, ~p"/:a", 1)
      assert Khepri.is_empty(store) == false

      :ok = Khepri.delete(store, ~p"/:a")
      assert Khepri.is_empty(store, %{favor: :consistency}) == true
    end
  end

  describe "bang variants" do
    test "return the bare value", %{store: store} do
      stock(store)
      assert Khepri.get!(store, ~p"/:stock/:wood/oak") == 150
      assert Khepri.get!(store, ~p"/:stock/:wood", %{}) == :undefined
      assert Khepri.get_or!(store, ~p"/:stock/:wood/pine", 0) == 0
      assert Khepri.get_or!(store, ~p"/:stock/:wood/oak", 0, %{}) == 150

      assert Khepri.get_many!(store, "/:stock/:wood/*") ==
               %{[:stock, :wood, "oak"] => 150, [:stock, :wood, "birch"] => 20}

      assert Khepri.get_many!(store, "/:nothing/*", %{}) == %{}

      assert Khepri.get_many_or!(store, "/:stock/*", :none) ==
               %{[:stock, :wood] => :none, [:stock, :metal] => :none}

      assert Khepri.get_many_or!(store, "/:stock/*", :none, %{}) ==
               %{[:stock, :wood] => :none, [:stock, :metal] => :none}

      assert Khepri.exists!(store, ~p"/:stock") == true
      assert Khepri.exists!(store, ~p"/:glass", %{}) == false
      assert Khepri.has_data!(store, ~p"/:stock/:wood/oak") == true
      assert Khepri.has_data!(store, ~p"/:stock", %{}) == false
      assert Khepri.is_sproc!(store, ~p"/:procs/:hello") == true
      assert Khepri.is_sproc!(store, ~p"/:procs", %{}) == false
      assert Khepri.count!(store, "/:stock/*/*") == 3
      assert Khepri.count!(store, "/:nothing/*", %{}) == 0
    end

    test "raise Khepri.Error with name and props for a Khepri error", %{store: store} do
      stock(store)

      error = assert_raise Khepri.Error, fn -> Khepri.get!(store, ~p"/:stock/:wood/pine") end

      props = %{node_name: "pine", node_path: [:stock, :wood, "pine"], node_is_target: true}
      assert %Khepri.Error{name: :node_not_found, props: ^props} = error
      assert error.reason == {:khepri, :node_not_found, props}
      assert Exception.message(error) =~ "node_not_found"

      error = assert_raise Khepri.Error, fn -> Khepri.get!(store, ~p"/:glass/:pane", %{}) end

      assert error.props == %{node_name: :glass, node_path: [:glass], node_is_target: false}
    end

    test "raise Khepri.Error for :noproc" do
      store = :khepri_ex_not_running

      for fun <- [
            fn -> Khepri.get!(store, ~p"/:a") end,
            fn -> Khepri.get_or!(store, ~p"/:a", 0) end,
            fn -> Khepri.get_many!(store, "*") end,
            fn -> Khepri.get_many_or!(store, "*", 0) end,
            fn -> Khepri.exists!(store, ~p"/:a") end,
            fn -> Khepri.has_data!(store, ~p"/:a") end,
            fn -> Khepri.is_sproc!(store, ~p"/:a") end,
            fn -> Khepri.count!(store, "*") end
          ] do
        error = assert_raise Khepri.Error, fun
        assert %Khepri.Error{reason: :noproc, name: nil, props: nil} = error
      end
    end

    test "let other exceptions through unchanged", %{store: store} do
      assert {:khepri_ex, :possibly_matching_many_nodes_denied, %{path: [:stock, star()]}} =
               khepri_ex(fn -> Khepri.get!(store, "/:stock/*") end)

      assert {:khepri_ex, :invalid_option, %{option: :colour, value: :red}} =
               khepri_ex(fn -> Khepri.count!(store, "*", %{colour: :red}) end)

      assert {:khepri_ex, :invalid_path, %{path: 42}} =
               khepri_ex(fn -> Khepri.exists!(store, 42) end)
    end
  end

  describe "errors" do
    test "{:error, :noproc} for a store that is not running" do
      store = :khepri_ex_not_running
      assert Khepri.get_or(store, ~p"/:a", 0) == {:error, :noproc}
      assert Khepri.get_many(store, "*") == {:error, :noproc}
      assert Khepri.get_many_or(store, "*", 0) == {:error, :noproc}
      assert Khepri.has_data(store, ~p"/:a") == {:error, :noproc}
      assert Khepri.is_sproc(store, ~p"/:a") == {:error, :noproc}
      assert Khepri.count(store, "*") == {:error, :noproc}
      assert Khepri.fold(store, "*", fn _, _, acc -> acc end, 0) == {:error, :noproc}
      assert Khepri.foreach(store, "*", fn _, _ -> :ok end) == {:error, :noproc}
      assert Khepri.map(store, "*", fn _, _ -> :ok end) == {:error, :noproc}
      assert Khepri.filter(store, "*", fn _, _ -> true end) == {:error, :noproc}
      assert Khepri.is_empty(store) == {:error, :noproc}
    end

    test "invalid_option for an unknown key or a bad value", %{store: store} do
      bad = %{colour: :red}
      expected = {:khepri_ex, :invalid_option, %{option: :colour, value: :red}}

      for fun <- [
            fn -> Khepri.get(store, ~p"/:a", bad) end,
            fn -> Khepri.get_or(store, ~p"/:a", 0, bad) end,
            fn -> Khepri.get_many(store, "*", bad) end,
            fn -> Khepri.get_many_or(store, "*", 0, bad) end,
            fn -> Khepri.exists(store, ~p"/:a", bad) end,
            fn -> Khepri.has_data(store, ~p"/:a", bad) end,
            fn -> Khepri.is_sproc(store, ~p"/:a", bad) end,
            fn -> Khepri.count(store, "*", bad) end,
            fn -> Khepri.fold(store, "*", fn _, _, acc -> acc end, 0, bad) end,
            fn -> Khepri.foreach(store, "*", fn _, _ -> :ok end, bad) end,
            fn -> Khepri.map(store, "*", fn _, _ -> :ok end, bad) end,
            fn -> Khepri.filter(store, "*", fn _, _ -> true end, bad) end,
            fn -> Khepri.is_empty(store, bad) end
          ] do
        assert khepri_ex(fun) == expected
      end

      assert khepri_ex(fn -> Khepri.get_many(store, "*", %{favor: :speed}) end) ==
               {:khepri_ex, :invalid_option, %{option: :favor, value: :speed}}

      assert khepri_ex(fn -> Khepri.count(store, "*", %{include_root_props: 1}) end) ==
               {:khepri_ex, :invalid_option, %{option: :include_root_props, value: 1}}
    end

    test "a known key that does not apply is ignored", %{store: store} do
      :ok = Khepri.put(store, ~p"/:a", 1)
      assert Khepri.get(store, ~p"/:a", %{keep_while: %{}, async: false}) == {:ok, 1}
    end

    test "invalid_path for a malformed pattern", %{store: store} do
      assert {:khepri_ex, :invalid_path, %{path: [:a, 1]}} =
               khepri_ex(fn -> Khepri.get_many(store, [:a, 1]) end)

      assert {:khepri_ex, :invalid_path, %{path: :a}} =
               khepri_ex(fn -> Khepri.count(store, :a, %{}) end)
    end
  end

  describe "expect_specific_node is set by the function" do
    # SPEC 1.3/4.2: single-node APIs set `expect_specific_node => true`
    # themselves; an `expect_specific_node: false` option must not turn
    # `get` into a pattern query.
    test "get ignores expect_specific_node: false", %{store: store} do
      zoo(store)

      assert {:khepri_ex, :possibly_matching_many_nodes_denied, %{path: [:zoo, star()]}} =
               khepri_ex(fn -> Khepri.get(store, "/:zoo/*", %{expect_specific_node: false}) end)
    end

    # SPEC 1.3: `expect_specific_node` is set by the function, `false` for
    # many-node reads.
    test "get_many ignores expect_specific_node: true", %{store: store} do
      zoo(store)

      assert Khepri.get_many(store, "/:zoo/*", %{expect_specific_node: true}) ==
               {:ok, %{[:zoo, :cats] => :undefined, [:zoo, :dogs] => :undefined}}
    end
  end
end

defmodule KhepriQueriesDefaultStoreTest do
  # Changes the application environment: not async.
  use ExUnit.Case, async: false

  import Khepri.Path, only: [sigil_p: 2]

  setup context, do: Khepri.TestStore.start_default(context)

  test "the forms without a store id use the default store", %{store: store} do
    assert Khepri.is_empty() == true
    assert Khepri.is_empty(%{}) == true

    :ok = Khepri.put(store, ~p"/:stock/:wood/oak", 150)
    :ok = Khepri.put(store, ~p"/:procs/:hello", fn -> :hi end)

    assert Khepri.is_empty() == false
    assert Khepri.get(~p"/:stock/:wood/oak") == {:ok, 150}
    assert Khepri.get("/:stock/:wood/oak", %{}) == {:ok, 150}
    assert Khepri.get_or(~p"/:stock/:wood/pine", 0) == {:ok, 0}
    assert Khepri.get_or(~p"/:stock/:wood/pine", 0, %{}) == {:ok, 0}
    assert Khepri.get_many(~p"/:stock/:wood/*") == {:ok, %{[:stock, :wood, "oak"] => 150}}
    assert Khepri.get_many("/:stock/:wood/*", %{}) == {:ok, %{[:stock, :wood, "oak"] => 150}}
    assert Khepri.get_many_or(~p"/:stock/*", 0) == {:ok, %{[:stock, :wood] => 0}}
    assert Khepri.get_many_or(~p"/:stock/*", 0, %{}) == {:ok, %{[:stock, :wood] => 0}}
    assert Khepri.exists(~p"/:stock") == true
    assert Khepri.exists(~p"/:glass", %{}) == false
    assert Khepri.has_data(~p"/:stock/:wood/oak") == true
    assert Khepri.has_data(~p"/:stock/:wood", %{}) == false
    assert Khepri.is_sproc(~p"/:procs/:hello") == true
    assert Khepri.is_sproc(~p"/:procs", %{}) == false
    assert Khepri.count("/*") == {:ok, 2}
    assert Khepri.count("**", %{include_root_props: true}) == {:ok, 6}

    add = fn _, props, acc -> acc + Map.get(props, :data, 0) end
    assert Khepri.fold(~p"/:stock/**", add, 0) == {:ok, 150}
    assert Khepri.fold(~p"/:stock/**", add, 1, %{}) == {:ok, 151}

    me = self()
    assert Khepri.foreach(~p"/:stock/:wood/*", fn path, _ -> send(me, path) end) == :ok
    assert_received [:stock, :wood, "oak"]
    assert Khepri.foreach("/:stock/:wood/*", fn path, _ -> send(me, path) end, %{}) == :ok
    assert_received [:stock, :wood, "oak"]

    assert Khepri.map("/*", fn [name], _ -> name end) ==
             {:ok, %{[:stock] => :stock, [:procs] => :procs}}

    assert Khepri.map("/*", fn [name], _ -> name end, %{}) ==
             {:ok, %{[:stock] => :stock, [:procs] => :procs}}

    assert Khepri.filter("/*", fn [name], _ -> name == :stock end) ==
             {:ok, %{[:stock] => :undefined}}

    assert Khepri.filter("/*", fn [name], _ -> name == :stock end, %{}) ==
             {:ok, %{[:stock] => :undefined}}
  end

  test "bang variants without a store id", %{store: store} do
    :ok = Khepri.put(store, ~p"/:stock/:wood/oak", 150)

    assert Khepri.get!(~p"/:stock/:wood/oak") == 150
    assert Khepri.get!(~p"/:stock/:wood/oak", %{}) == 150
    assert Khepri.get_or!(~p"/:stock/:wood/pine", 0) == 0
    assert Khepri.get_or!(~p"/:stock/:wood/pine", 0, %{}) == 0
    assert Khepri.get_many!(~p"/:stock/:wood/*") == %{[:stock, :wood, "oak"] => 150}
    assert Khepri.get_many!(~p"/:stock/:wood/*", %{}) == %{[:stock, :wood, "oak"] => 150}
    assert Khepri.get_many_or!(~p"/:stock/*", 0) == %{[:stock, :wood] => 0}
    assert Khepri.get_many_or!(~p"/:stock/*", 0, %{}) == %{[:stock, :wood] => 0}
    assert Khepri.exists!(~p"/:stock") == true
    assert Khepri.exists!(~p"/:glass", %{}) == false
    assert Khepri.has_data!(~p"/:stock/:wood/oak") == true
    assert Khepri.has_data!(~p"/:stock", %{}) == false
    assert Khepri.is_sproc!(~p"/:stock/:wood/oak") == false
    assert Khepri.is_sproc!(~p"/:stock", %{}) == false
    assert Khepri.count!("/*") == 1
    assert Khepri.count!("/*", %{}) == 1

    error = assert_raise Khepri.Error, fn -> Khepri.get!(~p"/:glass") end
    assert error.name == :node_not_found
  end
end
