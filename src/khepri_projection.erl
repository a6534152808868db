%% @doc Projections: ETS tables kept in sync with the tree (SPEC 2.12, 4.7).
%%
%% {@link new/3} only describes a projection; `khepri:register_projection'
%% makes every member create the table(s) and fill them from the tree. Three
%% kinds of projection functions exist:
%% <ul>
%% <li>`copy': the node's data, a tuple, is the ETS record;</li>
%% <li>a simple fun, `fun(Path, Data) -> Record': the record stored for a
%% node with data;</li>
%% <li>an extended fun, `fun(Tid | #{Table => Tid}, Path, OldProps, NewProps)
%% -> _': manages the table(s) itself (the only kind allowed several tables,
%% with the `tables' option).</li>
%% </ul>
%% Funs are stored as they are (SPEC 5b): their module must be loaded on
%% every member.
%%
%% Options are ETS options: `type', `keypos', `read_concurrency',
%% `write_concurrency' (`boolean() | auto'), `compressed' and `protection'
%% (`protected' by default; `named_table' is always set), plus `tables'
%% (per-table overrides of those options) and `standalone_fun_options'
%% (accepted and ignored: funs are not extracted here).

-module(khepri_projection).

-include_lib("kernel/include/logger.hrl").

-include("khepri.hrl").
-include("khepri_projection.hrl").

-export([new/2, new/3, name/1]).

-type name() :: atom().
%% The name of a projection; for a single-table projection, also the name of
%% its ETS table.

-type projection() :: #khepri_projection{}.
%% A projection, as returned by {@link new/3}.

-type simple_projection_fun() ::
        fun((Path :: khepri_path:native_path(), Data :: term()) ->
            Record :: tuple()).
%% Maps a node with data to one ETS record. It must always return the same
%% record for the same arguments: the record is also what gets deleted.

-type extended_projection_fun() ::
        fun((Tids :: ets:tid() | #{atom() => ets:tid()},
             Path :: khepri_path:native_path(),
             OldProps :: khepri:node_props(),
             NewProps :: khepri:node_props()) -> any()).
%% Updates the table(s) itself; `OldProps' is `#{}' for a creation,
%% `NewProps' is `#{}' for a deletion.

-type projection_fun() :: copy |
                          simple_projection_fun() |
                          extended_projection_fun().
%% What turns tree nodes into ETS records.

-type overridable_ets_options() ::
        #{type => ets:table_type(),
          keypos => pos_integer(),
          read_concurrency => boolean(),
          write_concurrency => boolean() | auto,
          compressed => boolean(),
          protection => ets:table_access()}.
%% ETS options, global or per table. Simple funs only allow the `set' and
%% `ordered_set' types.

-type multi_table_options() :: #{atom() => overridable_ets_options()}.
%% Table names and the options overriding the global ones for each table.

-type options() ::
        #{tables => multi_table_options(),
          standalone_fun_options => map(),
          type => ets:table_type(),
          keypos => pos_integer(),
          read_concurrency => boolean(),
          write_concurrency => boolean() | auto,
          compressed => boolean(),
          protection => ets:table_access()}.
%% Options of {@link new/3}.

-type ets_options() :: [atom() | tuple()] |
                       #{atom() => [atom() | tuple()]}.
%% Options for `ets:new/2', per table for a multi-table projection.

-export_type([name/0,
              projection/0,
              simple_projection_fun/0,
              extended_projection_fun/0,
              projection_fun/0,
              overridable_ets_options/0,
              multi_table_options/0,
              options/0,
              ets_options/0]).

-spec new(Name, ProjectionFun) -> Projection when
      Name :: name(),
      ProjectionFun :: projection_fun(),
      Projection :: projection().
%% @doc Describes a projection with default options.
%%
%% Same as `new(Name, ProjectionFun, #{})'.

new(Name, ProjectionFun) ->
    new(Name, ProjectionFun, #{}).

-spec new(Name, ProjectionFun, Options) -> Projection when
      Name :: name(),
      ProjectionFun :: projection_fun(),
      Options :: options(),
      Projection :: projection().
%% @doc Describes a projection.
%%
%% Raises `?khepri_exception(Name, Props)' on misuse:
%% <ul>
%% <li>`multi_table_projection_incompatible_with_copy_func' or
%% `multi_table_projection_incompatible_with_simple_func', with `#{name =>
%% Name, projection_fun => ProjectionFun, options => Options}', when
%% `tables' is given with `copy' or a simple fun;</li>
%% <li>`unexpected_projection_option', with `#{name => Key, value =>
%% Value}', for an unknown option or an invalid value (including `type'
%% other than `set' or `ordered_set' for a simple fun, per-table
%% `tables' or `standalone_fun_options', and an empty `tables' map). The
%% arguments themselves are checked the same way: `Key' is `name' for a
%% non-atom `Name', `projection_fun' for anything but `copy' or a fun of
%% arity 2 or 4, `options' for a non-map `Options'.</li>
%% </ul>
%% `protection => public' is accepted but, with `copy' or a simple fun,
%% logs a warning: writers other than the store would break the rule that
%% the table holds exactly the records of the nodes that exist.

new(Name, ProjectionFun, Options) ->
    is_atom(Name) orelse unexpected_option(name, Name),
    is_map(Options) orelse unexpected_option(options, Options),
    Kind = kind(ProjectionFun),
    %% Funs are stored as they are (SPEC 5b), so Horus options mean nothing
    %% here; they are accepted for compatibility.
    EtsOptionsMap = maps:remove(standalone_fun_options, Options),
    IsMultiTable = maps:is_key(tables, EtsOptionsMap),
    case {Kind, IsMultiTable} of
        {copy, true} ->
            erlang:error(
              ?khepri_exception(
                 multi_table_projection_incompatible_with_copy_func,
                 #{name => Name,
                   projection_fun => ProjectionFun,
                   options => Options}));
        {simple, true} ->
            erlang:error(
              ?khepri_exception(
                 multi_table_projection_incompatible_with_simple_func,
                 #{name => Name,
                   projection_fun => ProjectionFun,
                   options => Options}));
        {simple, false} ->
            %% The store inserts and deletes the one record of each node:
            %% with a bag, deleting a record could remove another node's.
            case maps:get(type, EtsOptionsMap, set) of
                set         -> ok;
                ordered_set -> ok;
                Type        -> unexpected_option(type, Type)
            end;
        _ ->
            ok
    end,
    EtsOptions = case IsMultiTable of
                     false -> single_table_ets_options(EtsOptionsMap);
                     true  -> multi_table_ets_options(EtsOptionsMap)
                 end,
    warn_if_public(Name, Kind, EtsOptions),
    #khepri_projection{name = Name,
                       projection_fun = ProjectionFun,
                       ets_options = EtsOptions}.

-spec name(Projection) -> Name when
      Projection :: projection(),
      Name :: name().
%% @doc Returns the name of a projection.

name(#khepri_projection{name = Name}) ->
    Name.

kind(copy) ->
    copy;
kind(Fun) when is_function(Fun, 2) ->
    simple;
kind(Fun) when is_function(Fun, 4) ->
    extended;
kind(Other) ->
    unexpected_option(projection_fun, Other).

%% Keys are handled in term order so that, with several bad options, the
%% same one is reported every time.
single_table_ets_options(Options) ->
    Protection = case maps:get(protection, Options, protected) of
                     P when P =:= public orelse P =:= protected orelse
                            P =:= private ->
                         P;
                     BadProtection ->
                         unexpected_option(protection, BadProtection)
                 end,
    Others = lists:sort(maps:to_list(maps:remove(protection, Options))),
    [named_table, Protection | lists:flatmap(fun ets_option/1, Others)].

ets_option({type, Type})
  when Type =:= set orelse Type =:= ordered_set orelse
       Type =:= bag orelse Type =:= duplicate_bag ->
    [Type];
ets_option({keypos, Pos}) when is_integer(Pos) andalso Pos >= 1 ->
    [{keypos, Pos}];
ets_option({read_concurrency, Flag}) when is_boolean(Flag) ->
    [{read_concurrency, Flag}];
ets_option({write_concurrency, Flag})
  when is_boolean(Flag) orelse Flag =:= auto ->
    [{write_concurrency, Flag}];
ets_option({compressed, true}) ->
    [compressed];
ets_option({compressed, false}) ->
    [];
ets_option({Key, Value}) ->
    unexpected_option(Key, Value).

%% Each table gets the global options overridden by its own.
multi_table_ets_options(Options) ->
    {Tables, GlobalOptions} = maps:take(tables, Options),
    ValidTables = is_map(Tables) andalso map_size(Tables) > 0 andalso
                  lists:all(fun({Table, TableOptions}) ->
                                    is_atom(Table) andalso
                                        is_map(TableOptions)
                            end, maps:to_list(Tables)),
    ValidTables orelse unexpected_option(tables, Tables),
    maps:from_list(
      [{Table, single_table_ets_options(maps:merge(GlobalOptions,
                                                   TableOptions))}
       || {Table, TableOptions} <- lists:sort(maps:to_list(Tables))]).

warn_if_public(Name, Kind, [named_table, public | _])
  when Kind =:= copy orelse Kind =:= simple ->
    %% No logger domain: the default handler drops events of unknown
    %% domains, and this one is meant to be seen.
    ?LOG_WARNING(
       "Khepri projection ~0p is public: other processes writing to its "
       "table can make it disagree with the store",
       [Name]);
warn_if_public(_Name, _Kind, _EtsOptions) ->
    ok.

unexpected_option(Key, Value) ->
    erlang:error(?khepri_exception(unexpected_projection_option,
                                   #{name => Key, value => Value})).
