%% @doc A member of the crash harness as an OS process of its own: a BEAM
%% node started by `peer' (a detached `erl') under a fixed name with its own
%% data directory, killed with `kill -9' of its OS pid, and restarted under
%% the same name on the same directory (a member's Raft id derives from its
%% node name, so a crashed member comes back as itself).
%%
%% A member is a map: `name', `dir', `config' (what `khepri:start/2' is
%% given) and, while it runs, `node', `peer' and `os_pid'.
-module(khepri_crash_node).

-export([new/3, start/1, boot/1, open/1, kill/1, stop/1, call/4, call/5]).

%% The peers share 2 cores with builds: booting, recovering a store and
%% remote calls are given generous bounds.
-define(BOOT_TIMEOUT, 60000).
-define(CALL_TIMEOUT, 120000).
-define(DOWN_TIMEOUT, 30000).

%% @doc A member that is not running yet.
new(Name, Dir, Config) ->
    #{name => Name, dir => Dir, config => Config}.

%% @doc Boots the member's node and starts its store, which recovers from
%% the data directory if there is one.
start(Member) ->
    Booted = boot(Member),
    ok = open(Booted),
    Booted.

%% @doc Boots the member's node and starts the application, not the store.
%% The peer is linked to the caller: if the caller dies, the node halts.
boot(#{name := Name} = Member) ->
    ok = wait_name_free(Name),
    %% `peer_down => continue': a killed node must not take its (linked)
    %% control process, and so the caller, with it.
    %% Without overlapping-partition prevention, `global' does not
    %% disconnect the survivors from each other when a member dies.
    {ok, Peer, Node} = peer:start_link(
                         #{name => Name, wait_boot => ?BOOT_TIMEOUT,
                           peer_down => continue,
                           args => ["-kernel", "prevent_overlapping_partitions", "false"
                                    | khepri_test_helpers:peer_args()]}),
    OsPid = erpc:call(Node, os, getpid, [], ?CALL_TIMEOUT),
    Booted = Member#{node => Node, peer => Peer, os_pid => OsPid},
    {ok, _} = call(Booted, application, ensure_all_started, [khepri]),
    Booted.

%% @doc Starts the store of a booted member: it recovers from its data
%% directory, if there is one.
open(#{dir := Dir, config := Config} = Member) ->
    {ok, _} = call(Member, khepri, start, [Dir, Config]),
    ok.

%% @doc Kills the members' OS processes at once with `kill -9' and returns
%% once every one of their nodes is down, with the members (not running).
kill(Members) ->
    Nodes = [Node || #{node := Node} <- Members],
    [true = erlang:monitor_node(Node, true) || Node <- Nodes],
    _ = os:cmd(lists:flatten(["kill -9" | [[" ", P] || #{os_pid := P} <- Members]])),
    [receive
         {nodedown, Node} -> ok
     after ?DOWN_TIMEOUT ->
         erlang:error({not_killed, Node})
     end || Node <- Nodes],
    [stop(M) || M <- Members].

%% @doc Stops the member's node (if it runs): the member, not running.
stop(#{peer := Peer} = Member) ->
    _ = catch peer:stop(Peer),
    maps:without([node, peer, os_pid], Member);
stop(Member) ->
    Member.

%% @doc `erpc:call/5' on the member's node with a generous timeout.
call(Member, M, F, A) ->
    call(Member, M, F, A, ?CALL_TIMEOUT).

%% @doc `erpc:call/5' on the member's node.
call(#{node := Node}, M, F, A, Timeout) ->
    erpc:call(Node, M, F, A, Timeout).

%% A killed node's name stays registered with epmd until epmd has seen its
%% connection close; a node started under that name before then fails.
wait_name_free(Name) ->
    Short = atom_to_list(Name),
    khepri_test_helpers:wait_until(
      fun() ->
              case net_adm:names() of
                  {ok, Names} -> not lists:keymember(Short, 1, Names);
                  {error, _} -> false
              end
      end, ?DOWN_TIMEOUT).
