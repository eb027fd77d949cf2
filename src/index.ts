import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { MenuSvg } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { PromotePanel } from './components/PromotePanel';
import { errorMessage, PromoteClient } from './handler';
import { promoteIcon } from './icons';
import { customSteps, isRoleChoice, RoleChoice, roleChoiceOf } from './model';
import { setCellRole } from './notebook';
import {
  CommandIDs,
  DEFAULT_SETTINGS,
  ISettings,
  PLUGIN_ID,
  ROLES
} from './tokens';
import { FRONTEND_VERSION } from './version';

/** Compare the server part's version with ours and raise the banner if needed. */
async function checkServer(
  client: PromoteClient,
  panel: PromotePanel
): Promise<void> {
  const prefix = 'Server extension missing or different version';
  try {
    const server = await client.version();
    panel.setServerProblem(
      server === FRONTEND_VERSION
        ? null
        : `${prefix}: the panel is ${FRONTEND_VERSION}, the server part is ${server}. ` +
            'Reinstall jupyterlab_promote and restart JupyterLab.'
    );
  } catch (error) {
    panel.setServerProblem(
      `${prefix}: the server part did not answer (${errorMessage(error)}). ` +
        'Run `jupyter server extension enable jupyterlab_promote` and restart JupyterLab.'
    );
  }
}

/**
 * The "Promote role" submenu: the built-in roles, the custom steps of the
 * notebook's latest analysis, and none. A menu item is checked when the
 * server's analysis gives the cell that role (directives included).
 */
function addSetRoleCommand(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  panel: PromotePanel
): void {
  const roleArg = (args: { role?: unknown }): string =>
    String(args.role ?? 'none');
  app.commands.addCommand(CommandIDs.setRole, {
    label: args => {
      const role = roleArg(args);
      return role.startsWith('step:') ? `step: ${role.slice(5)}` : role;
    },
    caption: 'Set the promote role of the selected cells',
    describedBy: {
      args: {
        type: 'object',
        properties: {
          role: {
            type: 'string',
            description: 'A role, `step:NAME` for a custom step, or `none`'
          }
        }
      }
    },
    isEnabled: () => tracker.activeCell !== null,
    isToggled: args => {
      const cell = tracker.activeCell;
      const plan = panel.plan;
      if (!cell || !plan || tracker.currentWidget !== panel.notebook) {
        return false;
      }
      const analysed = plan.cells.find(c => c.id === cell.model.id);
      return roleChoiceOf(analysed) === roleArg(args);
    },
    execute: args => {
      const notebook = tracker.currentWidget?.content;
      const role = roleArg(args);
      if (!notebook || (role !== 'none' && !isRoleChoice(role))) {
        return;
      }
      for (const cell of notebook.widgets) {
        if (notebook.isSelectedOrActive(cell)) {
          setCellRole(cell.model, role === 'none' ? null : role);
        }
      }
    }
  });

  const submenu = new MenuSvg({ commands: app.commands });
  submenu.id = 'jp-promote-role-menu';
  submenu.title.label = 'Promote role';
  submenu.title.icon = promoteIcon;
  let shown: string[] = [];
  const fillMenu = () => {
    const choices: (RoleChoice | 'none')[] = [
      ...ROLES,
      ...customSteps(panel.plan),
      'none'
    ];
    if (choices.join() === shown.join()) {
      return;
    }
    shown = choices;
    submenu.clearItems();
    for (const role of choices) {
      submenu.addItem({ command: CommandIDs.setRole, args: { role } });
    }
  };
  fillMenu();
  panel.planChanged.connect(fillMenu);
  app.contextMenu.addItem({
    type: 'submenu',
    submenu,
    selector: '.jp-Notebook .jp-Cell',
    rank: 30
  });
}

/**
 * Open a generated file: the working copy in JupyterLab's editor when it is
 * on disk, else (a preview before the first promotion) its pristine text in a
 * read-only view.
 */
async function openGeneratedFile(
  app: JupyterFrontEnd,
  path: string,
  pristine: string | null
): Promise<void> {
  let exists = true;
  try {
    await app.serviceManager.contents.get(path, { content: false });
  } catch {
    exists = false;
  }
  if (exists || pristine === null) {
    await app.commands.execute('docmanager:open', { path });
    return;
  }
  const content = new Widget();
  content.addClass('jp-promote-pristine');
  const pre = document.createElement('pre');
  pre.textContent = pristine;
  content.node.append(pre);
  const widget = new MainAreaWidget({ content });
  widget.id = `jp-promote-pristine-${Date.now()}`;
  widget.title.label = `${path.split('/').pop()} (generated, read-only)`;
  widget.title.caption = `${path}: not written yet; promote to create it`;
  widget.title.closable = true;
  app.shell.add(widget, 'main');
  app.shell.activateById(widget.id);
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Promote a tagged notebook to a tested, git-committed Lightning package.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ISettingRegistry, ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ) => {
    let settings: ISettings = { ...DEFAULT_SETTINGS };
    const client = new PromoteClient(app.serviceManager.serverSettings);
    const panel = new PromotePanel({
      client,
      tracker,
      settings: () => settings,
      openFile: (path, pristine) => openGeneratedFile(app, path, pristine)
    });
    app.shell.add(panel, 'right', { rank: 600 });
    restorer?.add(panel, panel.id);
    void checkServer(client, panel);

    if (settingRegistry) {
      void settingRegistry.load(PLUGIN_ID).then(
        loaded => {
          const read = () => {
            settings = {
              ...DEFAULT_SETTINGS,
              ...(loaded.composite as Partial<ISettings>)
            };
          };
          read();
          loaded.changed.connect(read);
        },
        error =>
          console.error('jupyterlab-promote: cannot load settings', error)
      );
    }

    const hasNotebook = () => tracker.currentWidget !== null;
    const open = () => app.shell.activateById(panel.id);
    app.commands.addCommand(CommandIDs.open, {
      label: args => (args.toolbar ? 'Promote' : 'Promote: open panel'),
      caption: 'Open the Promote panel',
      icon: args => (args.toolbar ? promoteIcon : undefined),
      execute: open
    });
    app.commands.addCommand(CommandIDs.preview, {
      label: 'Promote: preview',
      isEnabled: hasNotebook,
      execute: () => {
        open();
        return panel.preview();
      }
    });
    app.commands.addCommand(CommandIDs.promote, {
      label: 'Promote: promote and commit',
      isEnabled: hasNotebook,
      execute: () => {
        open();
        return panel.promote();
      }
    });
    addSetRoleCommand(app, tracker, panel);

    for (const command of [
      CommandIDs.open,
      CommandIDs.preview,
      CommandIDs.promote
    ]) {
      palette?.addItem({ command, category: 'Promote' });
    }
  }
};

export default plugin;
